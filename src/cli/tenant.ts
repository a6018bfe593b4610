// keyhold tenant create | list | show | update | delete
// Through the same service as the Admin API (src/services/tenants.ts).
import { pageOptions, pageRequest, parseOptions, required, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { REGISTRATION_MODES, type RegistrationMode, type TenantChange } from '#src/services/tenants.ts';

const settings = { name: { type: 'string' }, registration: { type: 'string' }, 'mfa-required-tiers': { type: 'string' } } as const;

/** The overrides given; "" sets one back to the node's setting. */
function tenantChange(values: { name?: string; registration?: string; 'mfa-required-tiers'?: string }): TenantChange {
  const { registration } = values;
  if (registration !== undefined && registration !== '' && !REGISTRATION_MODES.includes(registration as RegistrationMode)) {
    throw new UsageError(`--registration must be one of ${REGISTRATION_MODES.join(', ')} (or "" for the node setting)`);
  }
  const tiers = values['mfa-required-tiers'];
  return {
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(registration !== undefined ? { registration: registration === '' ? null : (registration as RegistrationMode) } : {}),
    ...(tiers !== undefined ? { mfaRequiredTiers: tiers === '' ? null : tiers.split(/[\s,]+/).filter(Boolean) } : {}),
  };
}

function planTenantCreate(args: string[]): Plan {
  const values = parseOptions(args, { id: { type: 'string' }, ...settings });
  const id = required(values.id, 'id');
  const change = tenantChange(values);
  return { needs: 'core', run: (core) => core.admin.tenants.create(CLI_ACTOR, id, change) };
}

function planTenantList(args: string[]): Plan {
  const page = pageRequest(parseOptions(args, pageOptions));
  return { needs: 'core', run: (core) => core.admin.tenants.list(CLI_ACTOR, page) };
}

function planTenantShow(args: string[]): Plan {
  const id = required(parseOptions(args, { id: { type: 'string' } }).id, 'id');
  return { needs: 'core', run: (core) => core.admin.tenants.get(CLI_ACTOR, id) };
}

function planTenantUpdate(args: string[]): Plan {
  const values = parseOptions(args, { id: { type: 'string' }, ...settings });
  const id = required(values.id, 'id');
  const change = tenantChange(values);
  return { needs: 'core', run: (core) => core.admin.tenants.update(CLI_ACTOR, id, change) };
}

function planTenantDelete(args: string[]): Plan {
  const id = required(parseOptions(args, { id: { type: 'string' } }).id, 'id');
  return {
    needs: 'core',
    run: async (core) => {
      await core.admin.tenants.remove(CLI_ACTOR, id);
      return { deleted: id };
    },
  };
}

export const tenantCommands: CommandGroup = { create: planTenantCreate, list: planTenantList, show: planTenantShow, update: planTenantUpdate, delete: planTenantDelete };
