// keyhold resource create
import { parseOptions, required, scopeList, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { createResource } from '#src/services/resources.ts';

function planResourceCreate(args: string[]): Plan {
  const values = parseOptions(args, { identifier: { type: 'string' }, scopes: { type: 'string' }, 'access-token-ttl': { type: 'string' } });
  const identifier = required(values.identifier, 'identifier');
  const scopes = scopeList(values.scopes);
  let accessTokenTtl: number | undefined;
  const ttl = values['access-token-ttl'];
  if (ttl !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(ttl)) throw new UsageError('--access-token-ttl must be a whole number of seconds');
    accessTokenTtl = Number(ttl);
  }
  return { needs: 'core', run: (core) => createResource(core.db, { identifier, scopes, accessTokenTtl }) };
}

export const resourceCommands: CommandGroup = { create: planResourceCreate };
