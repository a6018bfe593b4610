// Rules shared by the engine's storage adapters (Redis and SQL), so both keep the same
// secrets out of storage and react the same way to a lost consume race.
//
// What reaches storage:
// - the object's id is `hashToken(id)`: raw access/refresh tokens, authorization and device
//   codes, session ids and interaction ids never do;
// - the payload's `jti` (the raw id again) is replaced by an AES-GCM envelope, so that
//   findByUid/findByUserCode, which do not know the id, can restore it; find(id) simply sets
//   `jti: id`;
// - a DeviceCode's `userCode` and an Interaction's `session.cookie` (the raw session id) are
//   sealed the same way;
// - the uid index holds `hashToken(uid)`; the userCode index holds an HMAC under a key
//   derived from the encryption key, because user codes are short enough (8 characters of
//   a 20-letter alphabet) that a plain SHA-256 of one is reversed by enumeration;
// - the grant index holds `hashToken(grantId)`.
// Every envelope is bound (associated data) to the model, the field and the stored id, so
// an envelope copied onto another record does not decrypt.
import { createHmac, hkdfSync } from 'node:crypto';
import type { AdapterConstructor, AdapterPayload } from 'oidc-provider';
import { errors } from '#src/stores/engine-errors.ts';
import { decrypt, encrypt, hashToken } from '#src/crypto.ts';

/** One store of engine state: the adapter class the engine instantiates per model, plus
 *  the operations Keyhold itself needs across models. */
export interface EngineStateStore {
  Adapter: AdapterConstructor;
  /**
   * Ends every session, grant, token and code of an account, except the sessions and
   * grants named in `keep` (the ones the user acts from, when other sessions end).
   */
  revokeAccount(accountId: string, keep?: KeptState): Promise<void>;
  /** The account's live browser sessions, as stored (no secrets: keys are hashes). */
  accountSessions(accountId: string): Promise<StoredSession[]>;
  /**
   * Ends one session of the account and every grant given from it, with their tokens and
   * codes. False (nothing done) when the account has no session under that key.
   */
  endSession(accountId: string, sessionKey: string): Promise<boolean>;
}

/** A browser session as Keyhold lists it. */
export interface StoredSession {
  /** The session's storage id, `hashToken(session id)`: names it without revealing the cookie. */
  key: string;
  grantIds: string[];
  /** Epoch seconds of the sign-in. */
  loginTs: number | undefined;
  /** Epoch seconds when the engine lets it expire. */
  expiresAt: number | undefined;
}

/** A session key as storageId makes it (SHA-256, base64url); anything else names nothing. */
export const isSessionKey = (value: string) => /^[A-Za-z0-9_-]{43}$/.test(value);

/** What Keyhold lists of a stored Session payload (authorizations and times are not sealed). */
export function storedSessionOf(key: string, payload: Record<string, unknown>): StoredSession {
  const authorizations = (payload.authorizations ?? {}) as Record<string, { grantId?: unknown }>;
  const grantIds = Object.values(authorizations).flatMap((authorization) => (typeof authorization?.grantId === 'string' ? [authorization.grantId] : []));
  return {
    key,
    grantIds,
    loginTs: typeof payload.loginTs === 'number' ? payload.loginTs : undefined,
    expiresAt: typeof payload.exp === 'number' ? payload.exp : undefined,
  };
}

export interface KeptState {
  /** Raw session ids (the engine's Session jti). */
  sessionIds?: readonly string[];
  grantIds?: readonly string[];
}

export interface OidcAdapterOptions {
  /** 32-byte key, e.g. `deriveKey(KEYHOLD_SECRET, 'oidc-adapter')`. Nodes sharing storage share it. */
  encryptionKey: Buffer;
  /** Told after a reused one-time credential revoked its grant (events, audit). */
  onReuse?: ReuseListener;
  /** REFRESH_REUSE_GRACE as the request being served sees it (absent: strict). */
  refreshGrace?: RefreshGracePolicy;
}

/**
 * Refresh reuse grace (DESIGN.md): a refresh token presented again within a few seconds of
 * its rotation, by its own client, is answered with the successor already issued instead of
 * burning the grant. The adapters only decide whether a presentation falls in the window;
 * serving the kept successor is the token endpoint's (src/oidc/refresh-grace.ts).
 */
export interface RefreshGracePolicy {
  /** Seconds of grace for the request being served now: 0 outside a refresh grant. */
  window(): number;
  /** consume() found the token rotated within the window: this request gets the successor. */
  replayed(): void;
}

export const REFRESH_TOKEN_MODEL = 'RefreshToken';

/** True when a refresh token consumed at `consumed` (epoch seconds) is still within the grace window. */
export function consumedWithinGrace(model: string, consumed: number | undefined, policy: RefreshGracePolicy | undefined): boolean {
  if (model !== REFRESH_TOKEN_MODEL || consumed === undefined || !policy) return false;
  const window = policy.window();
  return window > 0 && Date.now() / 1000 - consumed < window;
}

/**
 * What find() hands the engine. Within the grace window a rotated refresh token is shown
 * unconsumed, so that the engine goes on to check the client and calls consume(), where the
 * replay is recognised, instead of revoking the grant at once.
 */
export function graceView(model: string, payload: AdapterPayload | undefined, policy: RefreshGracePolicy | undefined): AdapterPayload | undefined {
  if (!payload || !consumedWithinGrace(model, typeof payload.consumed === 'number' ? payload.consumed : undefined, policy)) return payload;
  const shown = { ...payload };
  delete shown.consumed;
  return shown;
}

/** A refresh token or code presented again: what is known of it (no secrets). */
export type ReuseListener = (reuse: { model: string; grantId: string; accountId: string | null; clientId: string | null }) => Promise<void>;

/** The part of a payload an adapter indexes, plus the sealed JSON object it stores. */
export interface SealedRecord {
  /** `hashToken(id)`: the primary key. */
  storedId: string;
  /** The payload to store, secrets sealed, without `consumed` (stored beside it). */
  stored: Record<string, unknown>;
  /** `hashToken(grantId)` when the payload belongs to a grant. */
  grantKey: string | undefined;
  /** `hashToken(uid)` when the payload has a uid (Session). */
  uidKey: string | undefined;
  /** HMAC of the user code when the payload has one (DeviceCode). */
  userCodeKey: string | undefined;
  /** Epoch seconds when the payload arrives already consumed. */
  consumed: number | undefined;
}

export const GRANT_MODEL = 'Grant';
/**
 * The engine's one-time marks (a DPoP proof's or a client assertion's jti). It checks one
 * with find() then saves it, so two nodes (or two requests) given the same proof at once
 * could both pass; the adapters therefore store a mark only when it is not there yet.
 */
export const REPLAY_MODEL = 'ReplayDetection';

/** The loser of a race to store the same one-time mark (the engine catches sequential replays itself). */
export function replayDetected(): Error {
  return new errors.InvalidRequest('replay detected: this jti was already used');
}
export const REVOKED_DETAIL = 'grant revoked: token reuse detected';

export function storageId(id: string): string {
  return hashToken(id);
}

export function grantStorageKey(grantId: string): string {
  return hashToken(grantId);
}

export function uidStorageKey(uid: string): string {
  return hashToken(uid);
}

const userCodeKeys = new WeakMap<Buffer, Buffer>();

export function userCodeStorageKey(encryptionKey: Buffer, userCode: string): string {
  let macKey = userCodeKeys.get(encryptionKey);
  if (!macKey) {
    macKey = Buffer.from(hkdfSync('sha256', encryptionKey, 'keyhold', 'oidc-adapter user code index', 32));
    userCodeKeys.set(encryptionKey, macKey);
  }
  return createHmac('sha256', macKey).update(userCode).digest('base64url');
}

export function epochSeconds(date: Date = new Date()): number {
  return Math.floor(date.getTime() / 1000);
}

function associatedData(model: string, field: string, storedId: string): string {
  return `${model}|${field}|${storedId}`;
}

export function assertEncryptionKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== 32) throw new TypeError('encryptionKey must be a 32-byte Buffer');
}

/** Prepares a payload the engine upserts for storage. */
export function sealPayload(encryptionKey: Buffer, model: string, id: string, payload: AdapterPayload): SealedRecord {
  const storedId = storageId(id);
  const stored: Record<string, unknown> = { ...payload };
  delete stored.consumed;
  if (typeof payload.jti === 'string') {
    stored.jti = encrypt(encryptionKey, payload.jti, associatedData(model, 'jti', storedId));
  }
  if (typeof payload.userCode === 'string') {
    stored.userCode = encrypt(encryptionKey, payload.userCode, associatedData(model, 'userCode', storedId));
  }
  if (payload.session && typeof payload.session.cookie === 'string') {
    stored.session = {
      ...payload.session,
      cookie: encrypt(encryptionKey, payload.session.cookie, associatedData(model, 'session.cookie', storedId)),
    };
  }
  let consumed: number | undefined;
  if (payload.consumed !== undefined && payload.consumed !== null && payload.consumed !== false) {
    consumed = typeof payload.consumed === 'number' ? Math.floor(payload.consumed) : epochSeconds();
  }
  return {
    storedId,
    stored,
    grantKey: typeof payload.grantId === 'string' ? grantStorageKey(payload.grantId) : undefined,
    uidKey: typeof payload.uid === 'string' ? uidStorageKey(payload.uid) : undefined,
    userCodeKey: typeof payload.userCode === 'string' ? userCodeStorageKey(encryptionKey, payload.userCode) : undefined,
    consumed,
  };
}

function open(encryptionKey: Buffer, envelope: unknown, model: string, field: string, storedId: string): string {
  if (typeof envelope !== 'string') throw new Error(`stored ${model} payload has a malformed ${field}`);
  try {
    return decrypt(encryptionKey, envelope, associatedData(model, field, storedId));
  } catch (error) {
    throw new Error(
      `cannot decrypt the ${field} of a stored ${model}: was it written with another KEYHOLD_SECRET?`,
      { cause: error },
    );
  }
}

/**
 * Restores what the engine stored. `id` is the raw id when the caller knows it (find);
 * otherwise (findByUid, findByUserCode) the sealed jti is decrypted.
 */
export function unsealPayload(
  encryptionKey: Buffer,
  model: string,
  storedId: string,
  stored: Record<string, unknown>,
  consumed: number | undefined,
  id?: string,
): AdapterPayload {
  const payload: Record<string, unknown> = { ...stored };
  if ('jti' in stored) {
    payload.jti = id ?? open(encryptionKey, stored.jti, model, 'jti', storedId);
  }
  if ('userCode' in stored) {
    payload.userCode = open(encryptionKey, stored.userCode, model, 'userCode', storedId);
  }
  const session = stored.session as Record<string, unknown> | undefined;
  if (session && typeof session === 'object' && 'cookie' in session) {
    payload.session = { ...session, cookie: open(encryptionKey, session.cookie, model, 'session.cookie', storedId) };
  }
  if (consumed !== undefined) payload.consumed = consumed;
  else delete payload.consumed;
  return payload as AdapterPayload;
}

/** The error for consume() of an object that is gone (expired, destroyed, or revoked meanwhile). */
export function consumeNotFound(model: string): Error {
  if (model === 'PushedAuthorizationRequest') {
    return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  return new errors.InvalidGrant(`${model} not found`);
}

/**
 * consume() found the object already consumed: a concurrent request presenting the same
 * code or refresh token won the race. That is reuse of a one-time credential (RFC 9700
 * §4.14, §4.5), so the whole grant is revoked (every object carrying its grantId, in every
 * model, and the Grant itself) before the losing request fails. The winner's response then
 * carries tokens of a deleted Grant, which the engine rejects on every use.
 *
 * `revokeGrant` must delete the grant's objects and the Grant object.
 *
 * The exception: a refresh token consumed within REFRESH_REUSE_GRACE (`consumed`, epoch
 * seconds, is when) is left alone, see RefreshGracePolicy.
 */
export async function handleConsumeConflict(
  model: string,
  payload: { grantId?: unknown; accountId?: unknown; clientId?: unknown },
  revokeGrant: (grantId: string) => Promise<void>,
  options: { onReuse?: ReuseListener; refreshGrace?: RefreshGracePolicy; consumed?: number },
): Promise<never> {
  const { onReuse, refreshGrace } = options;
  if (refreshGrace && consumedWithinGrace(model, options.consumed, refreshGrace)) {
    // A concurrent or retried refresh within the window: no second branch, no revocation.
    // The token endpoint answers it with the winner's response (refresh-grace.ts); this
    // error is what the request gets if no such response turns up.
    refreshGrace.replayed();
    throw new errors.InvalidGrant('refresh token already used');
  }
  const { grantId } = payload;
  if (typeof grantId === 'string' && grantId !== '') {
    await revokeGrant(grantId);
    const text = (value: unknown) => (typeof value === 'string' ? value : null);
    // The refusal must not depend on the listener: its failure is its own.
    await onReuse?.({ model, grantId, accountId: text(payload.accountId), clientId: text(payload.clientId) }).catch(() => {});
    throw new errors.InvalidGrant(REVOKED_DETAIL);
  }
  // No grant to revoke (a pushed authorization request): the loser just fails.
  if (model === 'PushedAuthorizationRequest') {
    throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  throw new errors.InvalidGrant(`${model} already consumed`);
}
