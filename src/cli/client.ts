// keyhold client create | initial-token
import { oneLine, parseOptions, required, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { createClient } from '#src/services/clients.ts';

function planClientCreate(args: string[]): Plan {
  const values = parseOptions(args, { metadata: { type: 'string' } });
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
      // The engine's metadata rules, from a bare engine; loaded here because only this
      // command needs them.
      const { createClientValidator } = await import('#src/oidc/client-validator.ts');
      // The stored metadata plus the generated credentials: the only time the secret is shown.
      return createClient(core.db, core.keys.clientSecrets, await createClientValidator(core), metadata);
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

export const clientCommands: CommandGroup = { create: planClientCreate, 'initial-token': planClientInitialToken };
