// The only reader of process.env. Every setting Keyhold understands is declared here,
// with its default and the reason for it; README.md and .env.example list the same keys.
// The result is parsed once, validated, and frozen: a bad value stops start-up with one
// line naming the key.
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const seconds = z.coerce.number().int().nonnegative();
const positiveInt = z.coerce.number().int().positive();

const nameList = z.string().transform((value) => [...new Set(value.split(/[\s,]+/).filter((name) => name && name !== 'none'))]);

// An address end users are sent to or shown: https, or http on localhost for development.
// Quotes, spaces, commas and semicolons are refused so the value can stand in a CSP source.
const brandUrl = z
  .url({ protocol: /^https?$/ })
  .refine((value) => {
    const url = new URL(value);
    return (url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))) && !url.username && !url.password;
  }, 'must be an https URL (or http://localhost), without credentials')
  .refine((value) => !/[\s'",;]/.test(value), 'must not contain spaces, quotes, commas or semicolons');

const signingAlg = z.enum(['RS256', 'PS256', 'ES256', 'EdDSA']);

const environmentSchema = z.object({
  // Runtime mode. `production` refuses to start without KEYHOLD_SECRET or with an http
  // issuer (see ALLOW_INSECURE_ISSUER), and never infers ALLOW_LOOPBACK_REQUESTS.
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  // TCP port and interface the HTTP server listens on.
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  // Public issuer identifier: the URL base clients see. No trailing slash, no query.
  ISSUER: z
    .url({ protocol: /^https?$/ })
    .refine((value) => !value.endsWith('/') && !value.includes('?') && !value.includes('#'), {
      message: 'must be an http(s) URL without a trailing slash, query or fragment',
    })
    .default('http://localhost:3000'),
  // With NODE_ENV=production an http ISSUER is refused: its cookies would go without
  // Secure over plain HTTP. true lets a local trial (docker compose on localhost) run in
  // production mode anyway; never set it for a deployment that others reach.
  ALLOW_INSECURE_ISSUER: bool.default(false),
  // At least 32 characters; keys for encryption at rest and cookie signing are derived
  // from it with HKDF. Nodes that share a database must share it. In development a random
  // one is generated into DATA_DIR when unset.
  KEYHOLD_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // Where the embedded database, the generated development secret and the mail outbox live.
  DATA_DIR: z.string().min(1).default('./data'),
  // Postgres connection string. Unset: an embedded PGlite database under DATA_DIR.
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  // Upper bound of pooled Postgres connections per process.
  DATABASE_POOL_MAX: positiveInt.default(10),
  // Seconds to wait for a Postgres connection (a free pool slot and the server's answer)
  // before the request fails with a clear error instead of hanging on a silent host.
  DATABASE_CONNECT_TIMEOUT: positiveInt.max(300).default(10),
  // Postgres connection string of a read replica (streaming replication, a managed read
  // endpoint). When set, the engine's per-request lookups of clients and API resources read
  // from it, offloading the primary; everything else, and every write, stays on
  // DATABASE_URL. Replication lag: a client or resource changed on the primary is seen by
  // those lookups only once the replica has caught up (a new one is found at once: a miss
  // on the replica is asked of the primary). Needs DATABASE_URL; the pool is as large.
  DATABASE_REPLICA_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  // Redis connection string for the engine's state. Unset: the SQL adapter.
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  // Redis Cluster instead of one Redis: comma-separated seed nodes, `host:port` or
  // `redis[s]://[user:password@]host:port` (credentials and TLS are taken from the first
  // entry and used for every node). The rest of the cluster is discovered from them. Every
  // Redis user (engine state, rate limits, lockout, the event stream) works on it: no
  // command names keys of two slots. Set this or REDIS_URL, not both.
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((value) => value.split(/[\s,]+/).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(rediss?:\/\/([^@/]*@)?)?[\w.-]+:\d{1,5}\/?$/, 'entries must be host:port or redis[s]://[user:password@]host:port')).min(1))
    .optional(),
  // Prefix of every Redis key, so that several deployments (or test runs) share one Redis.
  REDIS_PREFIX: z.string().default('keyhold:'),
  // Seconds a Redis connection attempt or command may take. Commands never wait in a queue
  // for a lost Redis (requests needing it answer 503 at once); this bounds the wait when
  // Redis is silent instead (a dead host, a paused server). Connecting again is retried
  // every second at most, so traffic resumes within about a second of Redis returning.
  REDIS_TIMEOUT: positiveInt.max(60).default(2),
  // Trust X-Forwarded-* headers. Only behind a proxy that sets them.
  TRUST_PROXY: bool.default(false),
  // How many proxies in front of Keyhold append to X-Forwarded-For. The client address is
  // the entry that many places from the right; entries further left are whatever the
  // client sent and are ignored (they would let anyone pick their own address).
  TRUST_PROXY_HOPS: positiveInt.default(1),
  // pino level.
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The `keyhold` CLI's log level (to stderr); silent by default so stdout stays pure JSON.
  CLI_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('silent'),
  // How the server's log lines look: `json` (one object a line, for collectors), `pretty`
  // (coloured lines for a person), or `auto`: pretty when NODE_ENV=development and the output
  // is a terminal, JSON otherwise.
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  // Largest request body accepted by Keyhold's own routes (forms, JSON), e.g. 100kb, 1mb.
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb').default('100kb'),
  // Lifetimes, in seconds. Access tokens are short; refresh tokens rotate on every use.
  ACCESS_TOKEN_TTL: seconds.min(30).default(600),
  REFRESH_TOKEN_TTL: seconds.min(60).default(14 * 24 * 3600),
  // Seconds after a refresh token's rotation during which presenting it again, from the
  // same client, returns the same successor tokens (multi-tab apps, retries after a lost
  // response) instead of revoking the grant. 0 is strict: any reuse revokes the grant
  // (RFC 9700 §4.14.2). Keep it to a few seconds: it is also a stolen token's window.
  REFRESH_REUSE_GRACE: seconds.max(60).default(0),
  ID_TOKEN_TTL: seconds.min(30).default(3600),
  AUTHORIZATION_CODE_TTL: seconds.min(10).max(600).default(60),
  CLIENT_CREDENTIALS_TTL: seconds.min(30).default(600),
  // The browser session at Keyhold (the SSO cookie) and a login/consent interaction.
  SESSION_TTL: seconds.min(60).default(14 * 24 * 3600),
  INTERACTION_TTL: seconds.min(60).default(3600),
  // Signing algorithms for which keys are kept; the first one signs ID tokens by default.
  SIGNING_ALGS: z
    .string()
    .default('RS256')
    .transform((value) => value.split(/[\s,]+/).filter(Boolean))
    .pipe(z.array(signingAlg).min(1)),
  // How long a new key is published in JWKS before it starts signing, so that verifiers'
  // cached JWKS learn it first.
  KEY_ACTIVATION_DELAY: seconds.default(900),
  // How often each node reloads the key set from the database.
  KEY_RELOAD_INTERVAL: seconds.min(1).default(60),
  // argon2id parameters (OWASP: m=19456 KiB, t=2, p=1).
  ARGON2_MEMORY_KIB: positiveInt.min(8192).default(19456),
  ARGON2_ITERATIONS: positiveInt.default(2),
  ARGON2_PARALLELISM: positiveInt.default(1),
  // Wrong passwords allowed per account+address (×5 per address across accounts) in
  // LOGIN_RATE_WINDOW seconds, at login and wherever a current password is confirmed.
  LOGIN_RATE_LIMIT: positiveInt.default(10),
  // Wrong passwords allowed per account from any address in the same window, so that
  // rotating addresses buys no extra guesses. Higher than LOGIN_RATE_LIMIT: reaching it
  // blocks the account's owner too, until the window ends.
  LOGIN_ACCOUNT_RATE_LIMIT: positiveInt.default(20),
  LOGIN_RATE_WINDOW: positiveInt.default(900),
  // Registration attempts allowed per address (IP) and, lower, per email address, in
  // REGISTRATION_RATE_WINDOW seconds: each one hashes a password and may send a mail.
  REGISTRATION_RATE_LIMIT: positiveInt.default(20),
  REGISTRATION_EMAIL_RATE_LIMIT: positiveInt.default(5),
  REGISTRATION_RATE_WINDOW: positiveInt.default(3600),
  // Password reset requests allowed per address (IP) and, lower, per email address, in
  // RECOVERY_RATE_WINDOW seconds: each may send a mail to whoever owns the address typed.
  RECOVERY_RATE_LIMIT: positiveInt.default(20),
  RECOVERY_EMAIL_RATE_LIMIT: positiveInt.default(5),
  RECOVERY_RATE_WINDOW: positiveInt.default(3600),
  // Outgoing mail. Unset SMTP_URL: messages are written as .eml under DATA_DIR/outbox.
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  // The sender of every mail. Unset: BRAND_NAME <no-reply@localhost>.
  MAIL_FROM: z.string().optional(),
  // Mail is queued in SQL and sent by a worker: how often it polls, and how many attempts
  // (with exponential back-off) a message gets before it is marked failed.
  MAIL_POLL_INTERVAL: positiveInt.default(2),
  MAIL_MAX_ATTEMPTS: positiveInt.max(20).default(8),
  // Self-service registration: open to anyone, by invitation only, or closed.
  REGISTRATION: z.enum(['open', 'invite', 'closed']).default('open'),
  // Roles every new account gets (registration, `user create` without --role, import
  // lines without roles), comma or space separated. Roles grant API scopes (`keyhold role
  // grant`); missing ones are created at start with no grants.
  DEFAULT_ROLES: z
    .string()
    .default('user')
    .transform((value) => [...new Set(value.split(/[\s,]+/).filter(Boolean))])
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'role names are 1-64 letters, digits and . _ : -'))),
  // Accounts whose email is not verified cannot sign in.
  REQUIRE_VERIFIED_EMAIL: bool.default(true),
  // Lifetimes (seconds) of emailed links and codes.
  EMAIL_VERIFICATION_TTL: seconds.min(60).default(24 * 3600),
  PASSWORD_RESET_TTL: seconds.min(60).default(3600),
  INVITATION_TTL: seconds.min(60).default(7 * 24 * 3600),
  // Seconds before a verification mail may be sent again.
  VERIFICATION_RESEND_COOLDOWN: seconds.default(60),
  // Password policy (NIST SP 800-63B): length bounds, and how many earlier passwords
  // cannot be reused.
  PASSWORD_MIN_LENGTH: positiveInt.min(8).max(64).default(8),
  PASSWORD_HISTORY: seconds.max(24).default(5),
  // Optional k-anonymity breach check (the HIBP range API or a compatible mirror), e.g.
  // https://api.pwnedpasswords.com/range/ . Off when unset; fails open when unreachable.
  BREACH_CHECK_URL: z.url({ protocol: /^https?$/ }).optional(),
  // Seconds since sign-in within which account deletion and email change need no password,
  // through first-party clients only (a third-party app must always send the password).
  RECENT_LOGIN_WINDOW: seconds.default(300),
  // Allow the engine's outgoing requests (back-channel logout) to loopback addresses.
  // Off by default; outside production, on automatically when the issuer itself is on
  // loopback. In production only an explicit true turns it on.
  ALLOW_LOOPBACK_REQUESTS: bool.optional(),
  // Serve /metrics on its own port (and interface) instead of the main one, which then
  // answers 404 for it: scrapers reach it on a private network, the public never does.
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // When set, /metrics (wherever it is served) needs `Authorization: Bearer <token>`.
  // At least 32 characters. Unset with METRICS_PORT unset: /metrics is public.
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  // Second factors, each switchable: TOTP apps, codes by email, codes by SMS.
  MFA_TOTP: bool.default(true),
  MFA_EMAIL: bool.default(true),
  MFA_SMS: bool.default(false),
  // Who must use a second factor: accounts of these tiers or with these roles (comma or
  // space separated; `none` for nobody). A client's `require_mfa: true` adds its users.
  MFA_REQUIRED_TIERS: nameList.default(['pro', 'team', 'enterprise']),
  MFA_REQUIRED_ROLES: nameList.default(['admin', 'owner']),
  // Sign-ins a person who must have a second factor but has none may still make before
  // enrolment is forced (0: enrol at the next sign-in).
  MFA_ENROLMENT_GRACE: seconds.default(0),
  // Passkeys (WebAuthn): a phishing-resistant second factor, and passwordless sign-in.
  PASSKEYS: bool.default(true),
  // The WebAuthn relying party id: the issuer's host name by default. Passkeys are bound to
  // it for good — changing it later orphans every registered passkey. A parent domain (e.g.
  // example.com for id.example.com) lets sibling sites share them.
  WEBAUTHN_RP_ID: z.string().regex(/^[a-z0-9.-]+$/i, 'must be a host name').optional(),
  // Origins allowed to use passkeys (comma separated): the issuer's origin by default.
  WEBAUTHN_ORIGINS: nameList.pipe(z.array(z.url({ protocol: /^https?$/ }))).optional(),
  // Lifetime (seconds) of a code sent by email or SMS, and the wait before another is sent.
  MFA_OTP_TTL: seconds.min(30).max(3600).default(300),
  MFA_OTP_RESEND_COOLDOWN: seconds.default(30),
  // The name authenticator apps show for the account (the otpauth:// issuer) and passkey
  // prompts show for the site. Unset: BRAND_NAME.
  TOTP_ISSUER_NAME: z.string().min(1).max(64).optional(),
  // How SMS codes leave: `log` writes each message to a private file under DATA_DIR/sms
  // (development; the code never reaches the log), `webhook` POSTs JSON to SMS_WEBHOOK_URL,
  // signed with SMS_WEBHOOK_SECRET (header Keyhold-Signature, as webhooks are).
  SMS_PROVIDER: z.enum(['log', 'webhook']).default('log'),
  SMS_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  SMS_WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // Seconds Keyhold waits for an upstream identity provider (discovery, token exchange,
  // JWKS, userinfo) before the federated sign-in fails with a page back to the login form.
  FEDERATION_TIMEOUT: positiveInt.max(60).default(10),
  // Seconds given to in-flight requests on SIGTERM before the process exits anyway.
  SHUTDOWN_TIMEOUT: seconds.default(10),
  // Pushed authorization requests (RFC 9126): clients may send the request to the PAR
  // endpoint first and the browser carries only its request_uri. A client's
  // `require_pushed_authorization_requests` makes it mandatory for that client;
  // REQUIRE_PAR for every client.
  PAR: bool.default(true),
  REQUIRE_PAR: bool.default(false),
  // Signed request objects (RFC 9101, JAR): `request` by value or pushed through PAR
  // (request_uri is accepted only from PAR). Unsigned (alg none) objects are refused.
  REQUEST_OBJECTS: bool.default(true),
  // DPoP (RFC 9449): access and refresh tokens bound to a key the client proves it holds.
  // A client with `dpop_bound_access_tokens: true` must use it. DPOP_REQUIRE_NONCE makes
  // every proof carry a server nonce (stateless, the same on every node).
  DPOP: bool.default(true),
  DPOP_REQUIRE_NONCE: bool.default(false),
  // Device authorization grant (RFC 8628) for CLIs and TVs: the device shows a code, the
  // user enters it at <ISSUER>/device and signs in there. Off by default: a deployment
  // turns it on when it has such clients (a device code can be phished like any link).
  DEVICE_FLOW: bool.default(false),
  // Seconds a device code (and its user code) stays usable.
  DEVICE_CODE_TTL: seconds.min(60).max(1800).default(600),
  // Code entries allowed per address (IP) at <ISSUER>/device in DEVICE_CODE_RATE_WINDOW
  // seconds (RFC 8628 §5.1: user codes are short and must not be guessable by brute force).
  DEVICE_CODE_RATE_LIMIT: positiveInt.default(20),
  DEVICE_CODE_RATE_WINDOW: positiveInt.default(900),
  // Dynamic client registration (RFC 7591) and management (RFC 7592) at /reg. Off by
  // default; when on, registering needs an initial access token from
  // `keyhold client initial-token`, and each client gets a registration access token.
  DYNAMIC_REGISTRATION: bool.default(false),
  // Account lockout (on every node): LOCKOUT_THRESHOLD failed sign-ins of one account within
  // LOCKOUT_WINDOW seconds lock it for LOCKOUT_DURATION seconds. While locked, even the right
  // password gets the page a wrong one gets; the owner is mailed once per lock; an operator
  // lifts it (`keyhold user unlock`, the Admin API). Independent of the rate limits above,
  // which count by address and name typed and also stop unknown names.
  LOCKOUT_THRESHOLD: positiveInt.default(5),
  LOCKOUT_WINDOW: positiveInt.default(900),
  LOCKOUT_DURATION: positiveInt.default(900),
  // Browser sessions one account may hold at once; the oldest ends when a new one starts.
  // 0 = no limit.
  CONCURRENT_SESSION_LIMIT: seconds.default(0),
  // Events (webhooks, the Redis Stream, NATS) are queued in an SQL outbox and delivered by a
  // worker: how often it polls (seconds), and how many attempts (exponential back-off) a
  // delivery gets before it is marked failed.
  EVENTS_POLL_INTERVAL: positiveInt.default(2),
  EVENTS_MAX_ATTEMPTS: positiveInt.max(30).default(12),
  // NATS server for events (subject EVENTS_NATS_SUBJECT, JetStream when a stream listens on
  // it, plain publish otherwise). Unset: no NATS delivery.
  NATS_URL: z.string().regex(/^(nats|tls):\/\//, 'must be a nats:// or tls:// URL').optional(),
  EVENTS_NATS_SUBJECT: z.string().regex(/^[\w.-]+$/, 'letters, digits, . _ -').default('keyhold.events'),
  // Let webhooks reach loopback and private addresses (tests, local trials). Off by default:
  // a webhook URL must not become a way to call the provider's own network.
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  // What the sign-in, registration and recovery limits do while Redis fails: `closed`
  // refuses the attempt (503: they guard password guessing), `memory` counts per node,
  // `open` lets it through. Each failure is logged and counted. The token endpoint
  // (refresh) has no Keyhold limit, so refreshes never wait on Redis limits (fail open).
  RATE_LIMIT_REDIS_FAILURE: z.enum(['closed', 'memory', 'open']).default('closed'),
  // Days the audit log is kept; older entries are deleted by a daily job. 0 keeps them forever.
  AUDIT_RETENTION_DAYS: seconds.default(365),
  // Seconds a node keeps what it read of a client (its secret decrypted), an API resource
  // or an account for the engine's per-request lookups. Every change on any node (services,
  // Admin API, CLI) evicts the entry everywhere at once through Redis pub/sub; this is the
  // backstop bound when a message is lost (Redis unreachable) or, without Redis, for a
  // change made by another process (the CLI beside an embedded server). 0: no caching.
  CACHE_TTL: seconds.max(300).default(10),
  // Processes serving the one port (node:cluster). Unset: the number of cores with
  // NODE_ENV=production, 1 otherwise. 1 runs no cluster primary at all.
  WORKERS: positiveInt.max(256).optional(),
  // argon2 hashes run on libuv's thread pool (UV_THREADPOOL_SIZE, 4 by default, read by
  // Node itself): at most that many run at once. ARGON2_QUEUE more may wait for a thread;
  // beyond those a password sign-in is answered 503 with Retry-After (each hash holds
  // ARGON2_MEMORY_KIB while it runs, so an unbounded queue would be unbounded memory).
  ARGON2_QUEUE: seconds.max(10_000).default(32),
  UV_THREADPOOL_SIZE: positiveInt.max(1024).default(4),

  // Branding: what end users see on every page and in every mail instead of "Keyhold".
  // The name stands in pages' titles, texts and mails ("sign out of <name>?").
  BRAND_NAME: z
    .string()
    .trim()
    .min(1)
    .max(60)
    .refine((value) => !/[\u0000-\u001f\u007f\u2028\u2029]/.test(value), 'must be one line without control characters')
    .default('Keyhold'),
  // A logo above each page and mail; https (or http://localhost for development). The CSP's
  // img-src names this exact address, nothing wider.
  BRAND_LOGO_URL: brandUrl.optional(),
  // The accent colour of buttons, links and focus rings (and mail buttons): #rgb or #rrggbb.
  // Served in a style sheet of Keyhold's own, so the CSP keeps style-src 'self'.
  BRAND_PRIMARY_COLOR: z
    .string()
    .regex(/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i, 'must be a CSS hex colour such as #1f6feb')
    .optional(),
  // Links in every page's and mail's footer; https (or http://localhost for development).
  BRAND_SUPPORT_URL: brandUrl.optional(),
  BRAND_PRIVACY_URL: brandUrl.optional(),
  BRAND_TERMS_URL: brandUrl.optional(),
});

// Names used by the product documents Keyhold was started from, accepted as aliases. Each
// converts the value to the canonical key's unit; errors name the alias the user set.
interface Alias {
  target: string;
  unit: string;
  toSeconds: number;
}
const aliases: Record<string, Alias> = {
  ACCESS_TOKEN_EXPIRE_MINUTES: { target: 'ACCESS_TOKEN_TTL', unit: 'minutes', toSeconds: 60 },
  REFRESH_TOKEN_EXPIRE_DAYS: { target: 'REFRESH_TOKEN_TTL', unit: 'days', toSeconds: 86400 },
  EMAIL_VERIFICATION_TOKEN_EXPIRE_HOURS: { target: 'EMAIL_VERIFICATION_TTL', unit: 'hours', toSeconds: 3600 },
  PASSWORD_RESET_TOKEN_EXPIRE_HOURS: { target: 'PASSWORD_RESET_TTL', unit: 'hours', toSeconds: 3600 },
  MFA_OTP_EXPIRE_SECONDS: { target: 'MFA_OTP_TTL', unit: 'seconds', toSeconds: 1 },
};

type Settings = Omit<z.infer<typeof environmentSchema>, 'ALLOW_LOOPBACK_REQUESTS' | 'WORKERS' | 'TOTP_ISSUER_NAME' | 'MAIL_FROM'> & {
  ALLOW_LOOPBACK_REQUESTS: boolean;
  WORKERS: number;
  TOTP_ISSUER_NAME: string;
  MAIL_FROM: string;
  /** true when ISSUER is https: cookies get the Secure flag. */
  secureCookies: boolean;
};

// Two kinds of setting. Process settings say how this process runs and what it reaches:
// where it listens, its database, Redis, mail relay, secret, logs, proxies, hashing cost
// for its hardware; they differ between nodes, environments and tests. Product policy says
// what Keyhold allows its users: lifetimes, passwords, registration, limits, algorithms;
// every node of a deployment has the same. A service takes the slice, or the few fields of
// it, that it uses.
const PROCESS_KEYS = [
  'NODE_ENV', 'PORT', 'HOST', 'ISSUER', 'ALLOW_INSECURE_ISSUER', 'secureCookies', 'KEYHOLD_SECRET', 'DATA_DIR',
  'DATABASE_URL', 'DATABASE_REPLICA_URL', 'DATABASE_POOL_MAX', 'DATABASE_CONNECT_TIMEOUT', 'REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_PREFIX', 'REDIS_TIMEOUT', 'TRUST_PROXY', 'TRUST_PROXY_HOPS',
  'LOG_LEVEL', 'CLI_LOG_LEVEL', 'LOG_FORMAT', 'BODY_LIMIT', 'KEY_RELOAD_INTERVAL', 'ARGON2_MEMORY_KIB', 'ARGON2_ITERATIONS',
  'ARGON2_PARALLELISM', 'SMTP_URL', 'MAIL_FROM', 'MAIL_POLL_INTERVAL', 'MAIL_MAX_ATTEMPTS',
  'ALLOW_LOOPBACK_REQUESTS', 'METRICS_PORT', 'METRICS_HOST', 'METRICS_TOKEN', 'SHUTDOWN_TIMEOUT',
  'EVENTS_POLL_INTERVAL', 'EVENTS_MAX_ATTEMPTS', 'NATS_URL', 'EVENTS_NATS_SUBJECT', 'WEBHOOK_ALLOW_PRIVATE',
  'SMS_PROVIDER', 'SMS_WEBHOOK_URL', 'SMS_WEBHOOK_SECRET', 'WEBAUTHN_RP_ID', 'WEBAUTHN_ORIGINS',
  'FEDERATION_TIMEOUT', 'CACHE_TTL', 'WORKERS', 'ARGON2_QUEUE', 'UV_THREADPOOL_SIZE',
] as const satisfies ReadonlyArray<keyof Settings>;
const POLICY_KEYS = [
  'ACCESS_TOKEN_TTL', 'REFRESH_TOKEN_TTL', 'REFRESH_REUSE_GRACE', 'ID_TOKEN_TTL', 'AUTHORIZATION_CODE_TTL', 'CLIENT_CREDENTIALS_TTL',
  'SESSION_TTL', 'INTERACTION_TTL', 'SIGNING_ALGS', 'KEY_ACTIVATION_DELAY', 'LOGIN_RATE_LIMIT',
  'LOGIN_ACCOUNT_RATE_LIMIT', 'LOGIN_RATE_WINDOW', 'REGISTRATION_RATE_LIMIT', 'REGISTRATION_EMAIL_RATE_LIMIT',
  'REGISTRATION_RATE_WINDOW', 'RECOVERY_RATE_LIMIT', 'RECOVERY_EMAIL_RATE_LIMIT', 'RECOVERY_RATE_WINDOW', 'REGISTRATION', 'DEFAULT_ROLES', 'REQUIRE_VERIFIED_EMAIL', 'EMAIL_VERIFICATION_TTL',
  'PASSWORD_RESET_TTL', 'INVITATION_TTL', 'VERIFICATION_RESEND_COOLDOWN', 'PASSWORD_MIN_LENGTH',
  'PASSWORD_HISTORY', 'BREACH_CHECK_URL', 'RECENT_LOGIN_WINDOW',
  'LOCKOUT_THRESHOLD', 'LOCKOUT_WINDOW', 'LOCKOUT_DURATION', 'CONCURRENT_SESSION_LIMIT', 'AUDIT_RETENTION_DAYS',
  'RATE_LIMIT_REDIS_FAILURE',
  'PASSWORD_HISTORY', 'BREACH_CHECK_URL', 'RECENT_LOGIN_WINDOW', 'MFA_TOTP', 'MFA_EMAIL', 'MFA_SMS',
  'PASSKEYS', 'MFA_REQUIRED_TIERS', 'MFA_REQUIRED_ROLES', 'MFA_ENROLMENT_GRACE', 'MFA_OTP_TTL', 'MFA_OTP_RESEND_COOLDOWN', 'TOTP_ISSUER_NAME',
  'PASSWORD_HISTORY', 'BREACH_CHECK_URL', 'RECENT_LOGIN_WINDOW',
  'BRAND_NAME', 'BRAND_LOGO_URL', 'BRAND_PRIMARY_COLOR', 'BRAND_SUPPORT_URL', 'BRAND_PRIVACY_URL', 'BRAND_TERMS_URL',
  'PAR', 'REQUIRE_PAR', 'REQUEST_OBJECTS', 'DPOP', 'DPOP_REQUIRE_NONCE', 'DEVICE_FLOW', 'DEVICE_CODE_TTL', 'DEVICE_CODE_RATE_LIMIT', 'DEVICE_CODE_RATE_WINDOW', 'DYNAMIC_REGISTRATION',
] as const satisfies ReadonlyArray<keyof Settings>;

type ProcessKey = (typeof PROCESS_KEYS)[number];
type PolicyKey = (typeof POLICY_KEYS)[number];
// A new setting must be sorted into one slice, and only one: otherwise these fail to
// compile, naming the key.
const everySettingSorted: [Exclude<keyof Settings, ProcessKey | PolicyKey>] extends [never] ? true : Exclude<keyof Settings, ProcessKey | PolicyKey> = true;
const noSettingInBoth: [Extract<ProcessKey, PolicyKey>] extends [never] ? true : Extract<ProcessKey, PolicyKey> = true;
void everySettingSorted;
void noSettingInBoth;

export type ProcessSettings = Readonly<Pick<Settings, ProcessKey>>;
export type ProductPolicy = Readonly<Pick<Settings, PolicyKey>>;

/** Every setting by name, and the same values as the two slices. */
export type Config = Readonly<Settings & { process: ProcessSettings; policy: ProductPolicy }>;

function slice<K extends keyof Settings>(settings: Settings, keys: readonly K[]): Readonly<Pick<Settings, K>> {
  // Unset optional settings stay absent, as in the flat configuration.
  return Object.freeze(Object.fromEntries(keys.filter((key) => Object.hasOwn(settings, key)).map((key) => [key, settings[key]])) as Pick<Settings, K>);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function isLoopbackIssuer(issuer: string): boolean {
  const { hostname } = new URL(issuer);
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}

// Values of these keys never appear in an error message (logs and terminals keep them).
const isSecretKey = (key: string) => /(SECRET|_TOKEN)$/.test(key);

/** The value as an error message may show it: secrets by length only, URLs without their password. */
function shown(key: string, value: string): string {
  if (isSecretKey(key)) return `a value of ${value.length} characters`;
  let display = value;
  try {
    const url = new URL(value);
    if (url.password) {
      url.password = '***';
      display = url.toString();
    }
  } catch {
    // not a URL: shown as given
  }
  return JSON.stringify(display);
}

/** The validator's findings in plain words; `alias` converts bounds back to the unit the user set. */
function plainMessage(issue: z.core.$ZodRawIssue, alias?: Alias): string | undefined {
  const scale = (bound: unknown) => (alias ? `${Number(bound) / alias.toSeconds} ${alias.unit}` : String(bound));
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return alias ? `must be a whole number of seconds once converted from ${alias.unit}` : 'must be a whole number';
      if (issue.expected === 'number') return alias ? `must be a number of ${alias.unit}` : 'must be a number';
      return undefined;
    case 'too_small':
      if (issue.origin === 'string') return `must be at least ${issue.minimum} characters long`;
      if (issue.origin === 'array') return `must name at least ${issue.minimum}`;
      return `must be at least ${scale(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters long`;
      return `must be at most ${scale(issue.maximum)}`;
    case 'invalid_value': {
      const values = issue.values.map(String);
      if (values.includes('true') && values.includes('false')) return 'must be true or false';
      return `must be one of ${values.join(', ')}`;
    }
    case 'invalid_format':
      if (issue.format === 'url') return 'must be an http:// or https:// URL';
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Reads `.env` (or `file`) into process.env when it exists, as the entry points do before
 * loadConfig(): the environment wins over the file, so a deployment's variables are never
 * overridden by a file left in the working directory. Returns the file read, if any.
 */
export function loadEnvFile(file = '.env'): string | undefined {
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}

/** Parses an environment (process.env by default) into a frozen Config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  // The name the user set for each canonical key (an alias or the key itself), and its value.
  const setAs: Record<string, { name: string; value: string; alias?: Alias }> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    const alias = Object.hasOwn(aliases, key) ? aliases[key] : undefined;
    if (alias) {
      if (env[alias.target]) continue;
      const amount = Number(value.trim());
      if (value.trim() === '' || !Number.isFinite(amount)) throw new ConfigError(`invalid setting ${key}: must be a number of ${alias.unit} (you set ${key}=${shown(key, value)})`);
      input[alias.target] = String(amount * alias.toSeconds);
      setAs[alias.target] = { name: key, value, alias };
    } else if (key in environmentSchema.shape) {
      input[key] = value;
      setAs[key] = { name: key, value };
    }
  }
  const parsed = environmentSchema.safeParse(input, {
    error: (issue) => plainMessage(issue, setAs[String(issue.path?.[0])]?.alias),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '(environment)');
    const source = setAs[key];
    if (!source) throw new ConfigError(`invalid setting ${key}: ${issue.message}`);
    throw new ConfigError(`invalid setting ${source.name}: ${issue.message} (you set ${source.name}=${shown(source.name, source.value)})`);
  }
  const values = parsed.data;
  const production = values.NODE_ENV === 'production';
  if (production && !values.KEYHOLD_SECRET) {
    throw new ConfigError('invalid setting KEYHOLD_SECRET: required when NODE_ENV=production');
  }
  if (production && !values.ISSUER.startsWith('https:') && !values.ALLOW_INSECURE_ISSUER) {
    throw new ConfigError('invalid setting ISSUER: must be an https URL when NODE_ENV=production (ALLOW_INSECURE_ISSUER=true allows http for a local trial)');
  }
  if (values.REDIS_URL && values.REDIS_CLUSTER_NODES) {
    throw new ConfigError('invalid setting REDIS_CLUSTER_NODES: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  }
  if (values.DATABASE_REPLICA_URL && !values.DATABASE_URL) {
    throw new ConfigError('invalid setting DATABASE_REPLICA_URL: needs DATABASE_URL (the embedded database has no replicas)');
  }
  if (values.METRICS_PORT !== undefined && values.METRICS_PORT === values.PORT && values.PORT !== 0) {
    throw new ConfigError('invalid setting METRICS_PORT: must differ from PORT');
  }
  if (values.MFA_SMS && values.SMS_PROVIDER === 'webhook' && (!values.SMS_WEBHOOK_URL || !values.SMS_WEBHOOK_SECRET)) {
    throw new ConfigError('invalid setting SMS_WEBHOOK_URL: SMS_PROVIDER=webhook needs SMS_WEBHOOK_URL and SMS_WEBHOOK_SECRET');
  }
  if (production && values.MFA_SMS && values.SMS_PROVIDER === 'log') {
    throw new ConfigError('invalid setting SMS_PROVIDER: `log` only writes files; set SMS_PROVIDER=webhook when NODE_ENV=production');
  }
  const settings: Settings = {
    ...values,
    // A production node must not reach loopback services because of how its issuer
    // happens to be spelled (a trial on localhost, a misconfiguration).
    ALLOW_LOOPBACK_REQUESTS: values.ALLOW_LOOPBACK_REQUESTS ?? (!production && isLoopbackIssuer(values.ISSUER)),
    secureCookies: values.ISSUER.startsWith('https:'),
    WORKERS: values.WORKERS ?? (production ? availableParallelism() : 1),
    TOTP_ISSUER_NAME: values.TOTP_ISSUER_NAME ?? values.BRAND_NAME,
    // A quoted display name: a brand with a comma or a colon stays one sender.
    MAIL_FROM: values.MAIL_FROM ?? `"${values.BRAND_NAME.replace(/["\\]/g, '\\$&')}" <no-reply@localhost>`,
  };
  return Object.freeze({ ...settings, process: slice(settings, PROCESS_KEYS), policy: slice(settings, POLICY_KEYS) });
}

// Damerau-Levenshtein distance (adjacent swaps count once): how far a name is from a key.
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i]![j] = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i]![j] = Math.min(rows[i]![j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

// First words of Keyhold's settings that other software rarely uses alone (NODE_, HOST…
// are everyone's): an unknown REDIS_HOST or LOCKOUT_TIME is most likely meant for Keyhold.
const KEYHOLD_WORDS = new Set(
  Object.keys(environmentSchema.shape)
    .filter((key) => key.includes('_'))
    .map((key) => key.split('_')[0]!)
    .filter((word) => !['NODE', 'LOG', 'ALLOW', 'KEY', 'ID', 'TRUST', 'BODY', 'REQUIRE', 'RECENT', 'DEFAULT', 'CONCURRENT', 'RATE', 'CLIENT', 'SESSION'].includes(word)),
);

/**
 * Names in the environment that look meant for Keyhold but that it does not read (a typo,
 * a KEYHOLD_ prefix, another product's name for a setting), and aliases shadowed by their
 * canonical key: one plain sentence each. Setting them changes nothing, so start-up goes on.
 */
export function settingWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  const known = [...Object.keys(environmentSchema.shape), ...Object.keys(aliases)];
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (env[name] === undefined) continue;
    if (Object.hasOwn(aliases, name) && env[aliases[name]!.target]) {
      warnings.push(`${name} is ignored: ${aliases[name]!.target} is also set and wins`);
      continue;
    }
    if (known.includes(name)) continue;
    const upper = name.toUpperCase();
    if (known.includes(upper)) {
      warnings.push(`${name} is not read (setting names are upper case): did you mean ${upper}?`);
      continue;
    }
    const unprefixed = upper.replace(/^KEYHOLD_/, '');
    const tolerance = (key: string) => (key.length >= 8 ? 2 : 1);
    // A distance is at least the difference in length: most keys are ruled out without the
    // table (every variable of the environment is checked, at every start).
    const nearest = known
      .filter((key) => Math.min(Math.abs(upper.length - key.length), Math.abs(unprefixed.length - key.length)) <= tolerance(key))
      .map((key) => ({ key, distance: Math.min(editDistance(upper, key), editDistance(unprefixed, key)) }))
      .filter(({ key, distance }) => distance <= tolerance(key))
      .sort((a, b) => a.distance - b.distance)[0];
    if (nearest) warnings.push(`${name} is not a Keyhold setting and is ignored: did you mean ${nearest.key}?`);
    else if (upper.startsWith('KEYHOLD_') || (upper.includes('_') && KEYHOLD_WORDS.has(upper.split('_')[0]!))) {
      warnings.push(`${name} is not a Keyhold setting and is ignored (the README's "Settings" lists every key)`);
    }
  }
  return warnings;
}
