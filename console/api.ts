// The typed Admin API client: one function per route the console uses, each named after the
// route's operationId. OPERATIONS lists them (a test checks each against /api/openapi.json).
import type * as T from './types.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
  ) {
    super(description);
  }
}

/** Sends a request with the current access token; the session refreshes it when refused. */
export type Transport = (method: string, path: string, body?: unknown) => Promise<Response>;

type Query = Record<string, string | number | undefined>;

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

const segment = encodeURIComponent;

export const OPERATIONS = {
  adminListUsers: ['get', '/api/admin/users'],
  adminCreateUser: ['post', '/api/admin/users'],
  adminGetUser: ['get', '/api/admin/users/{id}'],
  adminUpdateUser: ['patch', '/api/admin/users/{id}'],
  adminLogoutUser: ['post', '/api/admin/users/{id}/logout'],
  adminUnlockUser: ['post', '/api/admin/users/{id}/unlock'],
  adminSendPasswordReset: ['post', '/api/admin/users/{id}/password-reset'],
  adminGetUserSecurity: ['get', '/api/admin/users/{id}/security'],
  adminListClients: ['get', '/api/admin/clients'],
  adminCreateClient: ['post', '/api/admin/clients'],
  adminGetClient: ['get', '/api/admin/clients/{id}'],
  adminUpdateClient: ['patch', '/api/admin/clients/{id}'],
  adminDeleteClient: ['delete', '/api/admin/clients/{id}'],
  adminRotateClientSecret: ['post', '/api/admin/clients/{id}/secret'],
  adminListResources: ['get', '/api/admin/resources'],
  adminCreateResource: ['post', '/api/admin/resources'],
  adminListRoles: ['get', '/api/admin/roles'],
  adminCreateRole: ['post', '/api/admin/roles'],
  adminSetRoleGrants: ['put', '/api/admin/roles/{name}/grants'],
  adminListTenants: ['get', '/api/admin/tenants'],
  adminCreateTenant: ['post', '/api/admin/tenants'],
  adminListAudit: ['get', '/api/admin/audit'],
  adminGetStats: ['get', '/api/admin/stats'],
  adminListConnectors: ['get', '/api/admin/connectors'],
  adminCreateConnector: ['post', '/api/admin/connectors'],
  adminGetConnector: ['get', '/api/admin/connectors/{id}'],
  adminUpdateConnector: ['patch', '/api/admin/connectors/{id}'],
  adminDeleteConnector: ['delete', '/api/admin/connectors/{id}'],
  adminListSigningKeys: ['get', '/api/admin/keys'],
  adminRotateSigningKeys: ['post', '/api/admin/keys/rotate'],
  adminRetireSigningKey: ['post', '/api/admin/keys/{kid}/retire'],
  adminListWebhooks: ['get', '/api/admin/webhooks'],
  adminCreateWebhook: ['post', '/api/admin/webhooks'],
  adminDeleteWebhook: ['delete', '/api/admin/webhooks/{id}'],
  adminListWebhookDeliveries: ['get', '/api/admin/webhooks/{id}/deliveries'],
  adminRetryWebhookDelivery: ['post', '/api/admin/webhooks/{id}/deliveries/{deliveryId}/retry'],
} as const;

export function createAdminClient(send: Transport) {
  async function call<R>(method: string, path: string, body?: unknown): Promise<R> {
    const response = await send(method, path, body);
    if (response.status === 204) return undefined as R;
    const answer = (await response.json().catch(() => ({}))) as R & Partial<T.ApiErrorBody>;
    if (!response.ok) throw new ApiError(response.status, answer.error ?? 'error', answer.error_description ?? `HTTP ${response.status}`);
    return answer;
  }
  const user = (id: string) => `/api/admin/users/${segment(id)}`;
  const client = (id: string) => `/api/admin/clients/${segment(id)}`;
  const connector = (id: string) => `/api/admin/connectors/${segment(id)}`;
  const webhook = (id: string) => `/api/admin/webhooks/${segment(id)}`;
  return {
    listUsers: (query: T.UserQuery) => call<T.UserPage>('GET', withQuery('/api/admin/users', query)),
    createUser: (input: T.UserCreate) => call<T.AdminUser>('POST', '/api/admin/users', input),
    getUser: (id: string) => call<T.AdminUser>('GET', user(id)),
    updateUser: (id: string, change: T.UserPatch) => call<T.AdminUser>('PATCH', user(id), change),
    logoutUser: (id: string) => call<void>('POST', `${user(id)}/logout`),
    unlockUser: (id: string) => call<{ id: string; was_locked: boolean }>('POST', `${user(id)}/unlock`),
    sendPasswordReset: (id: string) => call<void>('POST', `${user(id)}/password-reset`),
    getUserSecurity: (id: string) => call<T.UserSecurity>('GET', `${user(id)}/security`),
    listClients: (query: { cursor?: string } = {}) => call<T.ClientPage>('GET', withQuery('/api/admin/clients', query)),
    createClient: (input: T.ClientCreate) => call<T.ClientCreated>('POST', '/api/admin/clients', input),
    getClient: (id: string) => call<T.AdminClient>('GET', client(id)),
    updateClient: (id: string, change: T.ClientPatch) => call<T.AdminClient>('PATCH', client(id), change),
    deleteClient: (id: string) => call<void>('DELETE', client(id)),
    rotateClientSecret: (id: string) => call<T.ClientSecret>('POST', `${client(id)}/secret`),
    listResources: () => call<T.ResourcePage>('GET', withQuery('/api/admin/resources', { limit: 200 })),
    createResource: (input: T.ResourceCreate) => call<T.Resource>('POST', '/api/admin/resources', input),
    listRoles: () => call<T.RolePage>('GET', withQuery('/api/admin/roles', { limit: 200 })),
    createRole: (input: T.RoleCreate) => call<T.Role>('POST', '/api/admin/roles', input),
    setRoleGrants: (name: string, grants: T.RoleGrants) => call<T.Role>('PUT', `/api/admin/roles/${segment(name)}/grants`, grants),
    listTenants: () => call<T.TenantPage>('GET', withQuery('/api/admin/tenants', { limit: 200 })),
    createTenant: (input: T.TenantCreate) => call<T.Tenant>('POST', '/api/admin/tenants', input),
    listAudit: (query: T.AuditQuery) => call<T.AuditPage>('GET', withQuery('/api/admin/audit', query)),
    getStats: (days: number) => call<T.Stats>('GET', withQuery('/api/admin/stats', { days })),
    listConnectors: () => call<T.ConnectorPage>('GET', withQuery('/api/admin/connectors', { limit: 200 })),
    createConnector: (input: T.ConnectorCreate) => call<T.Connector>('POST', '/api/admin/connectors', input),
    getConnector: (id: string) => call<T.Connector>('GET', connector(id)),
    updateConnector: (id: string, change: T.ConnectorPatch) => call<T.Connector>('PATCH', connector(id), change),
    deleteConnector: (id: string) => call<void>('DELETE', connector(id)),
    listKeys: () => call<T.SigningKeyList>('GET', '/api/admin/keys'),
    rotateKeys: (input: T.KeyRotate) => call<T.KeyRotation>('POST', '/api/admin/keys/rotate', input),
    retireKey: (kid: string) => call<T.SigningKey>('POST', `/api/admin/keys/${segment(kid)}/retire`),
    listWebhooks: () => call<T.WebhookList>('GET', '/api/admin/webhooks'),
    createWebhook: (input: T.WebhookCreate) => call<T.WebhookCreated>('POST', '/api/admin/webhooks', input),
    deleteWebhook: (id: string) => call<void>('DELETE', webhook(id)),
    listDeliveries: (id: string, query: { cursor?: string } = {}) => call<T.DeliveryPage>('GET', withQuery(`${webhook(id)}/deliveries`, query)),
    retryDelivery: (id: string, deliveryId: string) => call<T.Delivery>('POST', `${webhook(id)}/deliveries/${segment(deliveryId)}/retry`),
  };
}

export type AdminClientApi = ReturnType<typeof createAdminClient>;
