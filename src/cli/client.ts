// keyhold client create | list | show | update | delete | rotate-secret | initial-token
// Through the administration service the Admin API uses (src/services/admin/clients.ts),
// with the engine's metadata rules from a bare engine (loaded only by commands that check
// metadata).
import { jsonObjectOption, oneLine, pageOptions, pageRequest, parseOptions, required, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';

const id = { id: { type: 'string' } } as const;

function planClientCreate(args: string[]): Plan {
  const values = parseOptions(args, { metadata: { type: 'string' }, tenant: { type: 'string' } });
  const text = required(values.metadata, 'metadata');
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--metadata is not valid JSON: ${oneLine((error as Error).message)}`);
  }
  return {
    needs: 'core',
    run: async (core) => {
      const { client, clientSecret } = await core.admin.clients.create(CLI_ACTOR, metadata, { tenant: values.tenant });
      // The stored metadata plus the generated credentials: the only time the secret is shown.
      return { ...client.metadata, client_id: client.client_id, ...(clientSecret ? { client_secret: clientSecret } : {}), first_party: client.first_party, tenant: client.tenant };
    },
  };
}

function planClientList(args: string[]): Plan {
  const values = parseOptions(args, { tenant: { type: 'string' }, ...pageOptions });
  const page = { ...pageRequest(values), tenant: values.tenant };
  return { needs: 'core', run: (core) => core.admin.clients.list(CLI_ACTOR, page) };
}

function planClientShow(args: string[]): Plan {
  const clientId = required(parseOptions(args, id).id, 'id');
  return { needs: 'core', run: (core) => core.admin.clients.get(CLI_ACTOR, clientId) };
}

function planClientUpdate(args: string[]): Plan {
  const values = parseOptions(args, { ...id, metadata: { type: 'string' }, 'first-party': { type: 'string' }, tenant: { type: 'string' } });
  const clientId = required(values.id, 'id');
  const metadata = values.metadata === undefined ? undefined : jsonObjectOption(values.metadata, 'metadata');
  const firstParty = values['first-party'];
  if (firstParty !== undefined && firstParty !== 'true' && firstParty !== 'false') throw new UsageError('--first-party must be true or false');
  const change = { metadata, firstParty: firstParty === undefined ? undefined : firstParty === 'true', tenant: values.tenant };
  return { needs: 'core', run: (core) => core.admin.clients.update(CLI_ACTOR, clientId, change) };
}

function planClientDelete(args: string[]): Plan {
  const clientId = required(parseOptions(args, id).id, 'id');
  return {
    needs: 'core',
    run: async (core) => {
      await core.admin.clients.remove(CLI_ACTOR, clientId);
      return { deleted: clientId };
    },
  };
}

// An initial access token lets whoever holds it register clients until it expires.
const DEFAULT_INITIAL_TOKEN_TTL = 86_400;

function planClientInitialToken(args: string[]): Plan {
  const values = parseOptions(args, { ttl: { type: 'string' } });
  const ttl = values.ttl === undefined ? DEFAULT_INITIAL_TOKEN_TTL : Number(values.ttl);
  if (!Number.isSafeInteger(ttl) || ttl < 60 || ttl > 30 * 86_400) throw new UsageError('--ttl must be a number of seconds from 60 to 2592000');
  return {
    needs: 'core',
    run: async (core) => {
      const { issueInitialAccessToken } = await import('#src/oidc/initial-access-tokens.ts');
      return issueInitialAccessToken(core, ttl);
    },
  };
}

function planClientRotateSecret(args: string[]): Plan {
  const clientId = required(parseOptions(args, id).id, 'id');
  return { needs: 'core', run: (core) => core.admin.clients.rotateSecret(CLI_ACTOR, clientId) };
}

export const clientCommands: CommandGroup = {
  create: planClientCreate,
  list: planClientList,
  show: planClientShow,
  update: planClientUpdate,
  delete: planClientDelete,
  'rotate-secret': planClientRotateSecret,
  'initial-token': planClientInitialToken,
};
