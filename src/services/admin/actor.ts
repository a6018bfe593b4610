// Who performs an administrative action, and how far they reach. An owner (role `owner`)
// and the operator's CLI reach every tenant; any other administrator reaches only their own
// tenant, and objects of other tenants are, to them, objects that do not exist.
import { KeyholdError } from '#src/errors.ts';

export interface AdminActor {
  /** As the audit log records it: `account:<id>`, `client:<client_id>` or `cli`. */
  actor: string;
  /** The one tenant the actor sees; undefined for an owner or the CLI (every tenant). */
  tenant?: string;
  ip?: string;
}

/** The operator at the command line. */
export const CLI_ACTOR: AdminActor = { actor: 'cli' };

export const OWNER_ROLE = 'owner';

/** Whether `tenant` is one the actor sees. */
export function sees(actor: AdminActor, tenant: string): boolean {
  return actor.tenant === undefined || actor.tenant === tenant;
}

/** Refuses an actor bound to one tenant: the change reaches every tenant (roles, APIs, tenants). */
export function assertEveryTenant(actor: AdminActor): void {
  if (actor.tenant !== undefined) throw new KeyholdError('forbidden', { key: 'error.forbidden.owner_only' });
}

/** What the audit log records about the actor with each admin action. */
export function auditDetails(actor: AdminActor, tenant?: string): Record<string, unknown> {
  return { actor: actor.actor, ...(tenant !== undefined ? { tenant } : {}) };
}
