// keyhold audit list: the audit log as GET /api/admin/audit reads it.
import { pageOptions, pageRequest, parseOptions, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { isUuid } from '#src/stores/id-shapes.ts';

function time(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new UsageError(`--${flag} must be a time such as 2026-12-06T18:00:00Z`);
  return parsed;
}

function planAuditList(args: string[]): Plan {
  const values = parseOptions(args, { action: { type: 'string' }, subject: { type: 'string' }, actor: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, ...pageOptions });
  if (values.subject !== undefined && !isUuid(values.subject)) throw new UsageError('--subject must be an account id (UUID)');
  const filter = { event: values.action, accountId: values.subject, actor: values.actor, since: time(values.since, 'since'), until: time(values.until, 'until') };
  const page = pageRequest(values);
  return { needs: 'core', run: (core) => core.admin.audit.query(CLI_ACTOR, filter, page) };
}

export const auditCommands: CommandGroup = { list: planAuditList };
