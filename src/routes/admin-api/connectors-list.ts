import { defineRoute } from '#src/http/route.ts';
import { z } from 'zod';
import { adminActorOf } from '#src/routes/admin-auth.ts';
import { connectorPageSchema, pageAnswer, pageQuery } from '#src/routes/admin-api/schemas.ts';
import { adminErrors, adminRead, type AdminApiDependencies } from '#src/routes/admin-api/security.ts';

export const listConnectors = (deps: AdminApiDependencies) =>
  defineRoute({
    method: 'get',
    path: '/api/admin/connectors',
    operationId: 'adminListConnectors',
    summary: 'Connectors (federation upstreams), in pages, by id (never their secrets)',
    tag: 'Admin: connectors',
    security: adminRead,
    query: z.object(pageQuery).strict(),
    success: { status: 200, description: 'A page of connectors', schema: connectorPageSchema },
    errors: adminErrors(),
    handle: async (ctx, { query }) => pageAnswer(await deps.admin.connectors.list(adminActorOf(ctx), query), (connector) => connector),
  });
