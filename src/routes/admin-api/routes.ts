// The Admin API: every route is a file of its own here, listed in this table. Each is a
// declaration (src/http/route.ts): validated at the edge and documented in /api/openapi.json.
import type { AnyRouteSpec } from '#src/http/route.ts';
import { listAudit } from '#src/routes/admin-api/audit-list.ts';
import { createClient } from '#src/routes/admin-api/clients-create.ts';
import { deleteClient } from '#src/routes/admin-api/clients-delete.ts';
import { getClient } from '#src/routes/admin-api/clients-get.ts';
import { listClients } from '#src/routes/admin-api/clients-list.ts';
import { rotateClientSecret } from '#src/routes/admin-api/clients-secret.ts';
import { updateClient } from '#src/routes/admin-api/clients-update.ts';
import { createConnector } from '#src/routes/admin-api/connectors-create.ts';
import { deleteConnector } from '#src/routes/admin-api/connectors-delete.ts';
import { getConnector } from '#src/routes/admin-api/connectors-get.ts';
import { listConnectors } from '#src/routes/admin-api/connectors-list.ts';
import { updateConnector } from '#src/routes/admin-api/connectors-update.ts';
import { createResource } from '#src/routes/admin-api/resources-create.ts';
import { deleteResource } from '#src/routes/admin-api/resources-delete.ts';
import { getResource } from '#src/routes/admin-api/resources-get.ts';
import { listResources } from '#src/routes/admin-api/resources-list.ts';
import { updateResource } from '#src/routes/admin-api/resources-update.ts';
import { createRole } from '#src/routes/admin-api/roles-create.ts';
import { deleteRole } from '#src/routes/admin-api/roles-delete.ts';
import { getRole } from '#src/routes/admin-api/roles-get.ts';
import { setRoleGrants } from '#src/routes/admin-api/roles-grants.ts';
import { listRoles } from '#src/routes/admin-api/roles-list.ts';
import { updateRole } from '#src/routes/admin-api/roles-update.ts';
import type { AdminApiDependencies } from '#src/routes/admin-api/security.ts';
import { createTenant } from '#src/routes/admin-api/tenants-create.ts';
import { deleteTenant } from '#src/routes/admin-api/tenants-delete.ts';
import { getTenant } from '#src/routes/admin-api/tenants-get.ts';
import { listTenants } from '#src/routes/admin-api/tenants-list.ts';
import { updateTenant } from '#src/routes/admin-api/tenants-update.ts';
import { createUser } from '#src/routes/admin-api/users-create.ts';
import { deleteUser } from '#src/routes/admin-api/users-delete.ts';
import { getUser } from '#src/routes/admin-api/users-get.ts';
import { listUsers } from '#src/routes/admin-api/users-list.ts';
import { logoutUser } from '#src/routes/admin-api/users-logout.ts';
import { unlockUser } from '#src/routes/admin-api/users-unlock.ts';
import { sendPasswordReset } from '#src/routes/admin-api/users-password-reset.ts';
import { updateUser } from '#src/routes/admin-api/users-update.ts';
import { getUserSecurity } from '#src/routes/admin-api/users-security.ts';
import { getStats } from '#src/routes/admin-api/stats-get.ts';
import { listSigningKeys } from '#src/routes/admin-api/keys-list.ts';
import { retireSigningKey } from '#src/routes/admin-api/keys-retire.ts';
import { rotateSigningKeys } from '#src/routes/admin-api/keys-rotate.ts';
import { createWebhook } from '#src/routes/admin-api/webhooks-create.ts';
import { deleteWebhook } from '#src/routes/admin-api/webhooks-delete.ts';
import { listWebhookDeliveries } from '#src/routes/admin-api/webhooks-deliveries.ts';
import { listWebhooks } from '#src/routes/admin-api/webhooks-list.ts';
import { retryWebhookDelivery } from '#src/routes/admin-api/webhooks-retry.ts';

export type { AdminApiDependencies };
export { ADMIN_TOKEN_SCHEME } from '#src/routes/admin-api/security.ts';

const routes = [
  listUsers, createUser, getUser, updateUser, deleteUser, logoutUser, unlockUser, sendPasswordReset, getUserSecurity,
  listClients, createClient, getClient, updateClient, deleteClient, rotateClientSecret,
  listResources, createResource, getResource, updateResource, deleteResource,
  listRoles, createRole, getRole, updateRole, deleteRole, setRoleGrants,
  listTenants, createTenant, getTenant, updateTenant, deleteTenant,
  listConnectors, createConnector, getConnector, updateConnector, deleteConnector,
  listSigningKeys, rotateSigningKeys, retireSigningKey,
  listWebhooks, createWebhook, deleteWebhook, listWebhookDeliveries, retryWebhookDelivery,
  listAudit, getStats,
];

export function adminApiRoutes(deps: AdminApiDependencies): AnyRouteSpec[] {
  return routes.map((route) => route(deps));
}
