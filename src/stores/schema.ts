// Table types for Kysely. Mirrors migrations/; a migration that changes a table changes
// this file in the same commit.
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface AccountTable {
  id: string;
  email: string;
  email_normalized: string;
  email_verified: Generated<boolean>;
  name: string | null;
  password_hash: string | null;
  active: Generated<boolean>;
  roles: JSONColumnType<string[], string, string>;
  tier: string | null;
  /** The tenant the account belongs to (tenants.id); `default` unless said otherwise. */
  tenant: ColumnType<string, string | undefined, string>;
  given_name: string | null;
  family_name: string | null;
  picture: string | null;
  locale: string | null;
  zoneinfo: string | null;
  phone_number: string | null;
  phone_number_verified: Generated<boolean>;
  password_changed_at: NullableTimestamp;
  last_login_at: NullableTimestamp;
  /** Sign-ins let through without a second factor that policy requires (MFA_ENROLMENT_GRACE). */
  mfa_grace_used: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ClientTable {
  client_id: string;
  metadata: JSONColumnType<Record<string, unknown>, string, string>;
  secret_encrypted: string | null;
  first_party: Generated<boolean>;
  /** The tenant the client belongs to (tenants.id). */
  tenant: Generated<string>;
  created_at: Timestamp;
}

/** A tenant and the product settings it overrides (null: the node's setting applies). */
export interface TenantTable {
  id: string;
  name: string | null;
  registration: string | null;
  mfa_required_tiers: JSONColumnType<string[] | null, string | null, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ResourceTable {
  identifier: string;
  scopes: JSONColumnType<string[], string, string>;
  access_token_ttl: number | null;
  created_at: Timestamp;
}

export interface RoleTable {
  name: string;
  description: string | null;
  created_at: Timestamp;
}

/** One API scope a role grants: (role, resource identifier, scope). */
export interface RoleGrantTable {
  role: string;
  resource: string;
  scope: string;
  created_at: Timestamp;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  public_jwk: JSONColumnType<Record<string, unknown>, string, string>;
  private_jwk_encrypted: string;
  created_at: Timestamp;
  activates_at: Timestamp;
  retired_at: NullableTimestamp;
  removes_at: NullableTimestamp;
}

export interface OidcPayloadTable {
  model: string;
  id: string;
  payload: JSONColumnType<Record<string, unknown>, string, string>;
  grant_id: string | null;
  account_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: NullableTimestamp;
  consumed_at: NullableTimestamp;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: Timestamp;
  event: string;
  account_id: string | null;
  client_id: string | null;
  ip: string | null;
  details: JSONColumnType<Record<string, unknown>, string, string>;
  /** Who acted: `account` (the subject itself), `cli`, `admin:<id>`, `system`. */
  actor: string | null;
  /** `success` or `failure` (null on entries older than the column). */
  outcome: string | null;
  user_agent: string | null;
  request_id: string | null;
}

export interface PasswordHistoryTable {
  id: Generated<string>;
  account_id: string;
  password_hash: string;
  created_at: Timestamp;
}

export type FlowKind = 'registration' | 'verification' | 'recovery' | 'email_change' | 'email_change_cancel' | 'invitation';
export type FlowState = 'pending' | 'completed' | 'cancelled';

export interface SelfServiceFlowTable {
  id: string;
  kind: FlowKind;
  state: Generated<FlowState>;
  account_id: string | null;
  /** The address the flow's link or code was mailed to; the flow is good for it alone. */
  email: string | null;
  secret_hash: string;
  code_hash: string | null;
  attempts: Generated<number>;
  payload: JSONColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
  last_sent_at: NullableTimestamp;
  expires_at: Timestamp;
  completed_at: NullableTimestamp;
}

export interface MailOutboxTable {
  id: string;
  recipient: string;
  template: string;
  subject: string;
  /** Clear bodies of messages queued before bodies were sealed; null otherwise. */
  text_body: string | null;
  html_body: string | null;
  /** The text and HTML parts, sealed (see services/mailer.ts); null once sent or failed. */
  body_encrypted: string | null;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: NullableTimestamp;
  failed_at: NullableTimestamp;
}

/** Failed sign-ins of one account, and its lock (SQL lockout store; Redis keeps its own). */
export interface AccountLockoutTable {
  account_id: string;
  failures: Generated<number>;
  window_started_at: Timestamp;
  locked_until: NullableTimestamp;
}

/** A browser session's device and activity (the engine keeps the session itself). */
export interface SessionDeviceTable {
  session_key: string;
  account_id: string;
  user_agent: string | null;
  ip: string | null;
  created_at: Timestamp;
  last_active_at: Timestamp;
  expires_at: NullableTimestamp;
}

export interface WebhookTable {
  id: string;
  url: string;
  /** Event types it receives; empty: every type. */
  events: JSONColumnType<string[], string, string>;
  secret_encrypted: string;
  active: Generated<boolean>;
  created_at: Timestamp;
}

export interface EventOutboxTable {
  id: string;
  type: string;
  data: JSONColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
  fanned_out_at: NullableTimestamp;
}

export type DeliveryTarget = 'webhook' | 'redis_stream' | 'nats';

export interface EventDeliveryTable {
  id: Generated<string>;
  event_id: string;
  target: DeliveryTarget;
  webhook_id: string | null;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  delivered_at: NullableTimestamp;
  failed_at: NullableTimestamp;
  last_error: string | null;
}

/** A second factor; confirmed_at is null while its enrolment is not finished. */
export interface MfaFactorTable {
  id: string;
  account_id: string;
  kind: 'totp' | 'email' | 'sms' | 'passkey';
  /** TOTP: the base32 secret, sealed (src/crypto.ts) under DerivedKeys.mfaSecrets. */
  secret_encrypted: string | null;
  /** SMS: where codes go. */
  phone_number: string | null;
  /** TOTP: the time step of the last accepted code; a code of that step or older is refused. */
  last_totp_step: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  confirmed_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  created_at: Timestamp;
  /** Passkeys: the WebAuthn credential (base64url id, COSE public key), its counter and traits. */
  credential_id: string | null;
  public_key: string | null;
  sign_count: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  /** JSON array of transports, as the authenticator reported them. */
  transports: string | null;
  device_type: string | null;
  backed_up: boolean | null;
  name: string | null;
}

/** A WebAuthn challenge handed out (HMAC'd), usable once before it expires. */
export interface WebauthnChallengeTable {
  id: string;
  account_id: string | null;
  purpose: string;
  challenge_hash: string;
  expires_at: Timestamp;
  consumed_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface MfaRecoveryCodeTable {
  id: string;
  account_id: string;
  code_hash: string;
  used_at: NullableTimestamp;
  created_at: Timestamp;
}

/** An email or SMS code sent for a sign-in or an enrolment; the code itself is only HMAC'd. */
export interface MfaChallengeTable {
  id: string;
  account_id: string;
  factor_id: string;
  /** What the code is for: `login:<interaction uid>` or `enrol`. */
  purpose: string;
  code_hash: string;
  attempts: Generated<number>;
  expires_at: Timestamp;
  consumed_at: NullableTimestamp;
  created_at: Timestamp;
}

/** An upstream identity provider; `settings` holds everything but the secrets. */
export interface ConnectorTable {
  id: string;
  type: string;
  name: string;
  client_id: string;
  /** The client secret (and Apple's private key), sealed as one envelope. */
  secrets_encrypted: string;
  settings: JSONColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
}

/** (connector, upstream subject) → account. */
export interface FederatedIdentityTable {
  connector_id: string;
  subject: string;
  account_id: string;
  email: string | null;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
}

export interface Database {
  accounts: AccountTable;
  clients: ClientTable;
  tenants: TenantTable;
  resources: ResourceTable;
  roles: RoleTable;
  role_grants: RoleGrantTable;
  signing_keys: SigningKeyTable;
  oidc_payloads: OidcPayloadTable;
  audit_log: AuditLogTable;
  password_history: PasswordHistoryTable;
  self_service_flows: SelfServiceFlowTable;
  mail_outbox: MailOutboxTable;
  account_lockouts: AccountLockoutTable;
  session_devices: SessionDeviceTable;
  webhooks: WebhookTable;
  event_outbox: EventOutboxTable;
  event_deliveries: EventDeliveryTable;
  mfa_factors: MfaFactorTable;
  mfa_recovery_codes: MfaRecoveryCodeTable;
  mfa_challenges: MfaChallengeTable;
  webauthn_challenges: WebauthnChallengeTable;
  connectors: ConnectorTable;
  federated_identities: FederatedIdentityTable;
}
