import { defineRoute } from '#src/http/route.ts';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { auditEntryOf, auditPageSchema, auditQuery, pageAnswer } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listAudit = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/audit',
    operationId: 'adminListAudit',
    summary: 'The audit log, newest first, filtered by action, subject (account id), actor and time, in pages',
    tag: 'Admin: audit',
    security: adminRead,
    query: auditQuery,
    success: { status: 200, description: 'A page of entries', schema: auditPageSchema },
    errors: adminErrors(),
    handle: async (ctx, { query }) => {
      const filter = {
        event: query.action,
        accountId: query.subject,
        actor: query.actor,
        since: query.since === undefined ? undefined : new Date(query.since),
        until: query.until === undefined ? undefined : new Date(query.until),
      };
      return pageAnswer(await deps.admin.audit.query(adminActorOf(ctx), filter, { cursor: query.cursor, limit: query.limit }), auditEntryOf);
    },
  });
