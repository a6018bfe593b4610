// The Admin API's request and answer shapes. Named schemas (`.meta({ id })`) are components
// of the generated OpenAPI document; each carries an example.
import { z } from 'zod';
import type { Account } from '#src/services/accounts.ts';
import type { AuditEntry } from '#src/services/admin/audit.ts';
import type { Page } from '#src/services/admin/page.ts';
import { CONNECTOR_TYPES } from '#src/services/federation/connector-types.ts';
import { connectorChangeSchema, connectorMetadataSchema } from '#src/services/federation/connectors.ts';
import type { ApiResource } from '#src/services/resources.ts';
import type { Role } from '#src/services/roles.ts';
import { eventTypes } from '#src/services/event-types.ts';
import { SIGNING_ALGS, type SigningKeyInfo } from '#src/services/signing-keys.ts';
import type { Tenant } from '#src/services/tenants.ts';
import { singleLineText } from '#src/text-input.ts';

const EXAMPLE_ID = '3f0c6f7e-8a51-4c53-9a0e-5b1f0d7f2a11';
const EXAMPLE_TIME = '2026-12-06T18:00:00.000Z';
const nullableString = z.string().nullable();
const label = singleLineText(100);
const roleList = z.array(singleLineText(64)).max(100);

/** `?cursor=&limit=` of every list. */
export const pageQuery = {
  cursor: singleLineText(512).optional().describe('The next_cursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(200).optional().describe('Items per page (default 50, at most 200).'),
};

const booleanText = z.enum(['true', 'false']).transform((value) => value === 'true');

export function pageOf<T extends z.ZodType>(item: T, id: string, example: z.input<T>) {
  return z
    .object({ items: z.array(item), next_cursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page.') })
    .meta({ id, examples: [{ items: [example], next_cursor: null }] });
}

export function pageAnswer<T, U>(page: Page<T>, map: (item: T) => U) {
  return { items: page.items.map(map), next_cursor: page.nextCursor };
}

// Users.

const userExample = {
  id: EXAMPLE_ID,
  email: 'ada@example.com',
  email_verified: true,
  name: 'Ada Lovelace',
  active: true,
  roles: ['user', 'editor'],
  tier: 'pro',
  tenant: 'default',
  last_login_at: EXAMPLE_TIME,
  created_at: EXAMPLE_TIME,
  updated_at: EXAMPLE_TIME,
};

export const adminUserSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    email_verified: z.boolean(),
    name: nullableString,
    active: z.boolean(),
    roles: z.array(z.string()),
    tier: nullableString,
    tenant: z.string(),
    last_login_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'AdminUser', examples: [userExample] });

export function adminUserOf(account: Account): z.input<typeof adminUserSchema> {
  return {
    id: account.id,
    email: account.email,
    email_verified: account.emailVerified,
    name: account.name,
    active: account.active,
    roles: account.roles,
    tier: account.tier,
    tenant: account.tenant ?? 'default',
    last_login_at: account.lastLoginAt,
    created_at: account.createdAt,
    updated_at: account.updatedAt,
  };
}

export const userPageSchema = pageOf(adminUserSchema, 'AdminUserPage', userExample);

export const userListQuery = z
  .object({
    email: singleLineText(320).optional().describe('Part of the email address (case-insensitive); a whole address finds that account.'),
    name: singleLineText(200).optional().describe('Part of the name (case-insensitive).'),
    role: singleLineText(64).optional(),
    tier: label.optional(),
    tenant: label.optional(),
    active: booleanText.optional(),
    ...pageQuery,
  })
  .strict();

export const userCreateSchema = z
  .object({
    email: singleLineText(320),
    password: z.string().max(4096).optional().describe('Checked by the password policy; leave out to let the person set one through a reset link.'),
    name: singleLineText(200).optional(),
    roles: roleList.optional().describe('Default: DEFAULT_ROLES.'),
    tier: label.optional(),
    tenant: label.optional().describe("Default: the administrator's tenant (an owner's: default). Only an owner names another."),
    email_verified: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'AdminUserCreate', examples: [{ email: 'grace@example.com', password: 'correct horse battery staple', name: 'Grace Hopper', roles: ['user'], tier: 'pro' }] });

export const userPatchSchema = z
  .object({
    name: singleLineText(200).nullable().optional().describe('null or "" clears it.'),
    roles: roleList.optional().describe('Replaces every role; only an owner gives or takes the owner role.'),
    tier: label.nullable().optional().describe('null or "" clears it.'),
    tenant: label.optional().describe('Moves the account (owners only).'),
    active: z.boolean().optional().describe('false disables the account and ends its sessions and tokens.'),
  })
  .strict()
  .meta({ id: 'AdminUserPatch', examples: [{ roles: ['user', 'editor'], tier: 'team', active: true }] });

export const userParams = z.object({ id: singleLineText(64).describe('The account id (UUID).') });

// Clients.

const clientExample = {
  client_id: 'reports-service',
  tenant: 'default',
  first_party: false,
  has_secret: true,
  created_at: EXAMPLE_TIME,
  metadata: { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'reports:read' },
};

export const clientSchema = z
  .object({
    client_id: z.string(),
    tenant: z.string(),
    first_party: z.boolean(),
    has_secret: z.boolean().describe('Whether the client authenticates with a secret (never shown again after it was made).'),
    created_at: z.iso.datetime(),
    metadata: z.record(z.string(), z.unknown()).describe('RFC 7591 client metadata.'),
  })
  .meta({ id: 'AdminClient', examples: [clientExample] });

export const clientPageSchema = pageOf(clientSchema, 'AdminClientPage', clientExample);

export const clientCreatedSchema = z
  .object({ client: clientSchema, client_secret: z.string().optional().describe('Shown this once.') })
  .meta({ id: 'AdminClientCreated', examples: [{ client: clientExample, client_secret: 'kM2n…(43 characters)' }] });

export const clientCreateSchema = z
  .object({
    metadata: z.record(z.string(), z.unknown()).describe('RFC 7591 client metadata; a missing client_id and client_secret are generated. `scope` is the allow-list (API scopes included); `first_party: true` skips consent (owners only: it does so for every account, owners included).'),
    tenant: label.optional().describe("Default: the administrator's tenant. Only an owner names another."),
  })
  .strict()
  .meta({ id: 'AdminClientCreate', examples: [{ metadata: clientExample.metadata }] });

export const clientPatchSchema = z
  .object({
    metadata: z.record(z.string(), z.unknown()).optional().describe('Properties to replace; null removes one. client_id and client_secret cannot change here.'),
    first_party: z.boolean().optional(),
    tenant: label.optional().describe('Moves the client (owners only).'),
  })
  .strict()
  .meta({ id: 'AdminClientPatch', examples: [{ metadata: { redirect_uris: ['https://app.example.com/callback'] } }] });

export const clientParams = z.object({ id: singleLineText(128).describe('The client_id.') });

export const clientSecretSchema = z
  .object({ client_id: z.string(), client_secret: z.string().describe('Shown this once; the old secret stopped working.') })
  .meta({ id: 'AdminClientSecret', examples: [{ client_id: 'reports-service', client_secret: 'Qe7…(43 characters)' }] });

export const clientListQuery = z.object({ tenant: label.optional(), ...pageQuery }).strict();

// API resources.

const resourceExample = { identifier: 'https://api.example.com/reports', scopes: ['reports:read', 'reports:write'], access_token_ttl: null };

export const resourceSchema = z
  .object({ identifier: z.string(), scopes: z.array(z.string()), access_token_ttl: z.number().int().nullable().describe('Seconds; null: ACCESS_TOKEN_TTL.') })
  .meta({ id: 'AdminResource', examples: [resourceExample] });

export function resourceOf(resource: ApiResource): z.input<typeof resourceSchema> {
  return { identifier: resource.identifier, scopes: resource.scopes, access_token_ttl: resource.accessTokenTtl };
}

export const resourcePageSchema = pageOf(resourceSchema, 'AdminResourcePage', resourceExample);

const scopeList = z.array(singleLineText(128)).max(200);
const ttl = z.number().int().min(1).max(999_999_999);

export const resourceCreateSchema = z
  .object({ identifier: singleLineText(2048), scopes: scopeList, access_token_ttl: ttl.optional() })
  .strict()
  .meta({ id: 'AdminResourceCreate', examples: [{ identifier: 'https://api.example.com/reports', scopes: ['reports:read', 'reports:write'] }] });

export const resourcePatchSchema = z
  .object({ scopes: scopeList.optional().describe('Replaces the scopes; role grants of removed scopes go.'), access_token_ttl: ttl.nullable().optional() })
  .strict()
  .meta({ id: 'AdminResourcePatch', examples: [{ scopes: ['reports:read', 'reports:write', 'reports:admin'] }] });

export const resourceParams = z.object({ identifier: singleLineText(2048).describe('The resource identifier, URL-encoded.') });

// Connectors (federation upstreams). The request bodies are the connector service's own
// schemas, so the Admin API and `keyhold connector create|update` accept the same metadata.

const connectorExample = {
  id: 'corp',
  type: 'oidc' as const,
  name: 'Corp Identity',
  client_id: 'keyhold',
  issuer: 'https://idp.example.com',
  scope: 'openid email profile',
  trust_upstream_mfa: false,
  redirect_uri: 'https://id.example.com/connect/corp/callback',
  has_secret: true,
  created_at: EXAMPLE_TIME,
};

export const connectorSchema = z
  .object({
    id: z.string(),
    type: z.enum(CONNECTOR_TYPES),
    name: z.string(),
    client_id: z.string(),
    issuer: z.string().optional(),
    scope: z.string(),
    trust_upstream_mfa: z.boolean(),
    redirect_uri: z.string().describe('The callback URL to register at the upstream provider.'),
    has_secret: z.boolean().describe('Whether the client secret (Apple: the private key) is set; it is never returned.'),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'AdminConnector', examples: [connectorExample] });

export const connectorPageSchema = pageOf(connectorSchema, 'AdminConnectorPage', connectorExample);

export const connectorCreateSchema = connectorMetadataSchema.meta({
  id: 'AdminConnectorCreate',
  examples: [{ id: 'corp', type: 'oidc', name: 'Corp Identity', client_id: 'keyhold', client_secret: 'the secret registered upstream', issuer: 'https://idp.example.com' }],
});

export const connectorPatchSchema = connectorChangeSchema.meta({ id: 'AdminConnectorPatch', examples: [{ name: 'Corp SSO', client_secret: 'a rotated secret' }] });

export const connectorParams = z.object({ id: singleLineText(64).describe('The connector id.') });

// Signing keys: the public facts only (kid, algorithm, stage and its times), never key material.

const signingKeyExample = {
  kid: 'a1b2c3d4-0000-4000-8000-000000000001',
  alg: 'RS256',
  stage: 'signing' as const,
  created_at: EXAMPLE_TIME,
  activates_at: EXAMPLE_TIME,
  retired_at: null,
  removes_at: null,
};

export const signingKeySchema = z
  .object({
    kid: z.string(),
    alg: z.string(),
    stage: z.enum(['published', 'signing', 'retired', 'removed']).describe('published: in JWKS, not signing yet; signing; retired: in JWKS so that what it signed still verifies; removed: gone at the next reload.'),
    created_at: z.iso.datetime(),
    activates_at: z.iso.datetime().describe('When it signs (after KEY_ACTIVATION_DELAY for a rotated-in key).'),
    retired_at: z.iso.datetime().nullable().describe('When it stops signing (scheduled by a rotation, or now by a retirement).'),
    removes_at: z.iso.datetime().nullable().describe('When it leaves JWKS.'),
  })
  .meta({ id: 'AdminSigningKey', examples: [signingKeyExample] });

export function signingKeyOf(key: SigningKeyInfo): z.input<typeof signingKeySchema> {
  return { kid: key.kid, alg: key.alg, stage: key.stage, created_at: key.createdAt, activates_at: key.activatesAt, retired_at: key.retiredAt, removes_at: key.removesAt };
}

export const signingKeyListSchema = z.object({ keys: z.array(signingKeySchema) }).meta({ id: 'AdminSigningKeys', examples: [{ keys: [signingKeyExample] }] });

export const keyRotationSchema = z
  .object({ keys: z.array(signingKeySchema).describe('Every key after the rotation.'), rotated: z.array(z.string()).describe('The kids of the keys the rotation created.') })
  .meta({ id: 'AdminKeyRotation', examples: [{ keys: [signingKeyExample], rotated: [signingKeyExample.kid] }] });

export const keyRotateSchema = z
  .object({ alg: z.enum(SIGNING_ALGS).optional().describe('Rotate this algorithm only (one of SIGNING_ALGS); default: every one.') })
  .strict()
  .meta({ id: 'AdminKeyRotate', examples: [{ alg: 'RS256' }] })
  .optional()
  .describe('Optional: no body rotates every algorithm.');

export const keyParams = z.object({ kid: singleLineText(128).describe('The key id.') });

// Webhooks and their deliveries. A webhook's secret is in the answer that creates it, never again.

const webhookExample = { id: EXAMPLE_ID, url: 'https://hooks.example.com/keyhold', events: ['auth.user_created', 'auth.user_locked'], active: true, created_at: EXAMPLE_TIME };

export const webhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.string()).describe('The event types it receives; empty: every type.'),
    active: z.boolean(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'AdminWebhook', examples: [webhookExample] });

export const webhookListSchema = z.object({ webhooks: z.array(webhookSchema) }).meta({ id: 'AdminWebhooks', examples: [{ webhooks: [webhookExample] }] });

export const webhookCreatedSchema = webhookSchema
  .extend({ secret: z.string().describe('Signs every request (Keyhold-Signature); shown this once.') })
  .meta({ id: 'AdminWebhookCreated', examples: [{ ...webhookExample, secret: 'whsec_…(43 characters)' }] });

export const webhookCreateSchema = z
  .object({
    url: singleLineText(2048).describe('An http(s) URL without credentials or fragment. Private and loopback addresses are refused at delivery unless WEBHOOK_ALLOW_PRIVATE.'),
    events: z.array(z.enum(eventTypes)).max(eventTypes.length * 2).optional().describe('Default: every type.'),
  })
  .strict()
  .meta({ id: 'AdminWebhookCreate', examples: [{ url: webhookExample.url, events: webhookExample.events }] });

export function webhookOf(webhook: z.input<typeof webhookSchema>): z.input<typeof webhookSchema> {
  return { id: webhook.id, url: webhook.url, events: webhook.events, active: webhook.active, created_at: webhook.created_at };
}

export const webhookParams = z.object({ id: singleLineText(64).describe('The webhook id.') });

const deliveryStatuses = ['pending', 'retrying', 'delivered', 'failed'] as const;

const deliveryExample = {
  id: '1042',
  event_id: '9d7f3c2a-5b1e-4f0a-8c3d-2e1f0a9b8c7d',
  type: 'auth.user_created',
  status: 'retrying' as const,
  attempts: 2,
  last_error: 'webhook answered HTTP 500',
  next_attempt_at: EXAMPLE_TIME,
  delivered_at: null,
  failed_at: null,
  created_at: EXAMPLE_TIME,
};

export const deliverySchema = z
  .object({
    id: z.string(),
    event_id: z.uuid().describe('The Keyhold-Event-Id the receiver saw.'),
    type: z.string(),
    status: z.enum(deliveryStatuses).describe('pending: not tried yet; retrying: failed, tried again at next_attempt_at; delivered; failed: given up after EVENTS_MAX_ATTEMPTS.'),
    attempts: z.number().int(),
    last_error: nullableString.describe("Why the last attempt failed (the receiver's HTTP status or the network error, never a body)."),
    next_attempt_at: z.iso.datetime().nullable().describe('When the worker tries (again); null once delivered or given up.'),
    delivered_at: z.iso.datetime().nullable(),
    failed_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime().describe('When the event happened.'),
  })
  .meta({ id: 'AdminWebhookDelivery', examples: [deliveryExample] });

export const deliveryPageSchema = z
  .object({ deliveries: z.array(deliverySchema), next_cursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page.') })
  .meta({ id: 'AdminWebhookDeliveryPage', examples: [{ deliveries: [deliveryExample], next_cursor: null }] });

export const deliveryListQuery = z.object({ status: z.enum(deliveryStatuses).optional(), ...pageQuery }).strict();

export const deliveryParams = z.object({ id: singleLineText(64).describe('The webhook id.'), deliveryId: singleLineText(32).describe('The delivery id.') });

// Roles.

const roleExample = { name: 'editor', description: 'Edits reports', grants: [{ resource: 'https://api.example.com/reports', scopes: ['reports:read', 'reports:write'] }] };
const grantsSchema = z.array(z.object({ resource: singleLineText(2048), scopes: scopeList }).strict()).max(100);

export const roleSchema = z
  .object({ name: z.string(), description: z.string().nullable(), grants: z.array(z.object({ resource: z.string(), scopes: z.array(z.string()) })) })
  .meta({ id: 'AdminRole', examples: [roleExample] });

export function roleOf(role: Role): z.input<typeof roleSchema> {
  return { name: role.name, description: role.description, grants: role.grants };
}

export const rolePageSchema = pageOf(roleSchema, 'AdminRolePage', roleExample);

export const roleCreateSchema = z
  .object({ name: singleLineText(64), description: singleLineText(500).optional() })
  .strict()
  .meta({ id: 'AdminRoleCreate', examples: [{ name: 'editor', description: 'Edits reports' }] });

export const rolePatchSchema = z
  .object({ description: singleLineText(500).nullable() })
  .strict()
  .meta({ id: 'AdminRolePatch', examples: [{ description: 'Edits and publishes reports' }] });

export const roleGrantsSchema = z
  .object({ grants: grantsSchema.describe('Everything the role grants from now on, per API; an API left out is granted nothing.') })
  .strict()
  .meta({ id: 'AdminRoleGrants', examples: [{ grants: roleExample.grants }] });

export const roleParams = z.object({ name: singleLineText(64) });

// Tenants.

const tenantExample = { id: 'acme', name: 'Acme Corp', registration: 'invite' as const, mfa_required_tiers: ['pro', 'team'], created_at: EXAMPLE_TIME, updated_at: EXAMPLE_TIME };

export const tenantSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    registration: z.enum(['open', 'invite', 'closed']).nullable().describe('Overrides REGISTRATION; null: the node setting.'),
    mfa_required_tiers: z.array(z.string()).nullable().describe('Overrides MFA_REQUIRED_TIERS; null: the node setting.'),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'AdminTenant', examples: [tenantExample] });

export function tenantOf(tenant: Tenant): z.input<typeof tenantSchema> {
  return { id: tenant.id, name: tenant.name, registration: tenant.registration, mfa_required_tiers: tenant.mfaRequiredTiers, created_at: tenant.createdAt, updated_at: tenant.updatedAt };
}

export const tenantPageSchema = pageOf(tenantSchema, 'AdminTenantPage', tenantExample);

const tenantSettings = {
  name: singleLineText(200).optional(),
  registration: z.enum(['open', 'invite', 'closed']).nullable().optional(),
  mfa_required_tiers: z.array(singleLineText(100)).max(50).nullable().optional(),
};

export const tenantCreateSchema = z
  .object({ id: singleLineText(64), ...tenantSettings })
  .strict()
  .meta({ id: 'AdminTenantCreate', examples: [{ id: 'acme', name: 'Acme Corp', registration: 'invite' }] });

export const tenantPatchSchema = z
  .object(tenantSettings)
  .strict()
  .meta({ id: 'AdminTenantPatch', examples: [{ mfa_required_tiers: ['pro', 'team', 'enterprise'] }] });

export const tenantParams = z.object({ id: singleLineText(64) });

// Audit.

const auditExample = {
  id: '1042',
  at: EXAMPLE_TIME,
  action: 'account.authorization_changed',
  subject: EXAMPLE_ID,
  client_id: null,
  actor: 'account:0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d',
  ip: '203.0.113.7',
  details: { roles: { from: ['user'], to: ['user', 'editor'] } },
};

export const auditEntrySchema = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    action: z.string(),
    subject: z.string().nullable().describe('The account the entry is about.'),
    client_id: z.string().nullable(),
    actor: z.string().nullable().describe('Who did it: account:<id>, client:<client_id> or cli.'),
    ip: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry', examples: [auditExample] });

export function auditEntryOf(entry: AuditEntry): z.input<typeof auditEntrySchema> {
  return entry;
}

export const auditPageSchema = pageOf(auditEntrySchema, 'AuditPage', auditExample);

export const auditQuery = z
  .object({
    action: singleLineText(100).optional().describe('The event, e.g. account.authorization_changed.'),
    subject: z.uuid().optional().describe('The account id the entries are about.'),
    actor: singleLineText(200).optional().describe('account:<id>, client:<client_id> or cli.'),
    since: z.iso.datetime({ offset: true }).optional().describe('From this time (RFC 3339), inclusive.'),
    until: z.iso.datetime({ offset: true }).optional().describe('Until this time, exclusive.'),
    ...pageQuery,
  })
  .strict();

// An account's security (the console's user detail).

const securityExample = {
  locked_until: null,
  sessions: [{ id: 'yq3W3Jm9xJ8e0nq1r5mM2lqQd0cZc7w8iQ0aHn3b1kA', created_at: EXAMPLE_TIME, last_active_at: EXAMPLE_TIME, device: 'Chrome 120 on macOS', ip: '203.0.113.7' }],
  factors: [{ id: 'f1c6a0d2-1b1e-4e57-9c55-3b8a6a3f0e10', kind: 'totp', label: null, created_at: EXAMPLE_TIME, last_used_at: EXAMPLE_TIME }],
  identities: [{ connector_id: 'google', email: 'ada@example.com', created_at: EXAMPLE_TIME, last_used_at: null }],
};

export const userSecuritySchema = z
  .object({
    locked_until: z.iso.datetime().nullable().describe('Until when sign-ins are refused after failed attempts; null: not locked.'),
    sessions: z.array(z.object({ id: z.string(), created_at: z.iso.datetime(), last_active_at: z.iso.datetime(), device: nullableString, ip: nullableString })),
    factors: z.array(z.object({ id: z.string(), kind: z.string(), label: nullableString.describe('A passkey\'s name or the last digits of an SMS number.'), created_at: z.iso.datetime(), last_used_at: z.iso.datetime().nullable() })),
    identities: z.array(z.object({ connector_id: z.string(), email: nullableString, created_at: z.iso.datetime(), last_used_at: z.iso.datetime().nullable() })),
  })
  .meta({ id: 'AdminUserSecurity', examples: [securityExample] });

// Activity (the console's dashboard).

export const statsQuery = z.object({ days: z.coerce.number().int().min(1).max(90).optional().describe('How many UTC days, today included (default 14).') }).strict();

export const statsSchema = z
  .object({
    days: z.array(z.object({ date: z.iso.date(), sign_ins: z.number().int(), failures: z.number().int(), lockouts: z.number().int() })).describe('Oldest first.'),
    active_sessions: z.number().int().describe("Browser sessions alive now (ended and replaced ones do not count)."),
  })
  .meta({ id: 'AdminStats', examples: [{ days: [{ date: '2026-12-06', sign_ins: 42, failures: 3, lockouts: 0 }], active_sessions: 17 }] });
