// The Admin API's shapes, derived from the zod schemas its routes are declared with (the
// same schemas generate /api/openapi.json): a changed route breaks the console's typecheck.
// Type-only imports: nothing of the server reaches the bundle.
import type { z } from 'zod';
import type * as schemas from '#src/routes/admin-api/schemas.ts';

type Out<T extends z.ZodType> = z.output<T>;
type In<T extends z.ZodType> = z.input<T>;

export type AdminUser = Out<typeof schemas.adminUserSchema>;
export type UserPage = Out<typeof schemas.userPageSchema>;
export type UserCreate = In<typeof schemas.userCreateSchema>;
export type UserPatch = In<typeof schemas.userPatchSchema>;
export type UserSecurity = Out<typeof schemas.userSecuritySchema>;
export type UserQuery = Omit<In<typeof schemas.userListQuery>, 'active' | 'limit'> & { active?: 'true' | 'false'; limit?: number };
export type AdminClient = Out<typeof schemas.clientSchema>;
export type ClientPage = Out<typeof schemas.clientPageSchema>;
export type ClientCreate = In<typeof schemas.clientCreateSchema>;
export type ClientCreated = Out<typeof schemas.clientCreatedSchema>;
export type ClientPatch = In<typeof schemas.clientPatchSchema>;
export type ClientSecret = Out<typeof schemas.clientSecretSchema>;
export type Resource = Out<typeof schemas.resourceSchema>;
export type ResourcePage = Out<typeof schemas.resourcePageSchema>;
export type ResourceCreate = In<typeof schemas.resourceCreateSchema>;
export type Role = Out<typeof schemas.roleSchema>;
export type RolePage = Out<typeof schemas.rolePageSchema>;
export type RoleCreate = In<typeof schemas.roleCreateSchema>;
export type RoleGrants = In<typeof schemas.roleGrantsSchema>;
export type Tenant = Out<typeof schemas.tenantSchema>;
export type TenantPage = Out<typeof schemas.tenantPageSchema>;
export type TenantCreate = In<typeof schemas.tenantCreateSchema>;
export type AuditEntry = Out<typeof schemas.auditEntrySchema>;
export type AuditPage = Out<typeof schemas.auditPageSchema>;
export type AuditQuery = Omit<In<typeof schemas.auditQuery>, 'limit'> & { limit?: number };
export type Stats = Out<typeof schemas.statsSchema>;
export type Connector = Out<typeof schemas.connectorSchema>;
export type ConnectorPage = Out<typeof schemas.connectorPageSchema>;
export type ConnectorCreate = In<typeof schemas.connectorCreateSchema>;
export type ConnectorPatch = In<typeof schemas.connectorPatchSchema>;
export type SigningKey = Out<typeof schemas.signingKeySchema>;
export type SigningKeyList = Out<typeof schemas.signingKeyListSchema>;
export type KeyRotation = Out<typeof schemas.keyRotationSchema>;
export type KeyRotate = NonNullable<In<typeof schemas.keyRotateSchema>>;
export type Webhook = Out<typeof schemas.webhookSchema>;
export type WebhookList = Out<typeof schemas.webhookListSchema>;
export type WebhookCreate = In<typeof schemas.webhookCreateSchema>;
export type WebhookCreated = Out<typeof schemas.webhookCreatedSchema>;
export type Delivery = Out<typeof schemas.deliverySchema>;
export type DeliveryPage = Out<typeof schemas.deliveryPageSchema>;

/** The error body every Keyhold API answers with. */
export interface ApiErrorBody {
  error: string;
  error_description?: string;
}
