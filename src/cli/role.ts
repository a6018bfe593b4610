// keyhold role create | grant
import { parseOptions, required, scopeList } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { createRole, grantRole } from '#src/services/roles.ts';

function planRoleCreate(args: string[]): Plan {
  const values = parseOptions(args, { name: { type: 'string' }, description: { type: 'string' } });
  const name = required(values.name, 'name');
  return { needs: 'core', run: (core) => createRole(core.db, { name, description: values.description }) };
}

function planRoleGrant(args: string[]): Plan {
  const values = parseOptions(args, { name: { type: 'string' }, resource: { type: 'string' }, scopes: { type: 'string' } });
  const name = required(values.name, 'name');
  const resource = required(values.resource, 'resource');
  const scopes = scopeList(values.scopes);
  return { needs: 'core', run: (core) => grantRole(core.db, { name, resource, scopes }) };
}

export const roleCommands: CommandGroup = { create: planRoleCreate, grant: planRoleGrant };
