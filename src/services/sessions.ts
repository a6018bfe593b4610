// A person's browser sessions: listed with their device, address and times, ended one by
// one or all but the current one. The engine keeps each session (and the account → session
// index) in its state store; Keyhold adds what the engine does not keep, the device and
// activity, recorded whenever the engine saves a session. Ending a session ends every grant
// given from it, so the refresh tokens of the apps signed in there stop working at once.
// CONCURRENT_SESSION_LIMIT ends the oldest sessions when a new one starts.
import Bowser from 'bowser';
import type { Kysely } from 'kysely';
import { KeyholdError } from '#src/errors.ts';
import type { RequestOrigin } from '#src/services/security-record.ts';
import type { EngineStateStore, StoredSession } from '#src/stores/oidc-adapter-common.ts';
import { storageId } from '#src/stores/oidc-adapter-common.ts';
import type { Database } from '#src/stores/schema.ts';
import { forgetSessionDevice, recordSessionDevice, sessionDevicesOf, type SessionDeviceRow } from '#src/stores/session-device-store.ts';

export interface AccountSession {
  /** Opaque: a hash of the session id, which itself (the cookie value) never leaves the engine. */
  id: string;
  createdAt: string;
  lastActiveAt: string;
  userAgent: string | null;
  /** "Chrome 120 on macOS", from the user agent. */
  device: string | null;
  ip: string | null;
  current: boolean;
}

export type SessionEndReason = 'user' | 'user_others' | 'limit';

/** Who hears that a session ended (events), set up by the core. */
export type SessionEndListener = (ended: { accountId: string; sessionId: string; reason: SessionEndReason }) => Promise<void>;

export interface SessionService {
  /** The account's sessions, newest first; `currentSessionId` is the engine's id of the caller's session. */
  list(accountId: string, currentSessionId?: string): Promise<AccountSession[]>;
  /** Ends one of the account's sessions; not_found when the account has none with that id. */
  revoke(accountId: string, id: string): Promise<void>;
  /** Ends every session of the account but the current one; how many ended. */
  revokeOthers(accountId: string, currentSessionId?: string): Promise<number>;
  /** The engine saved a session (a sign-in, or a use of it) from this device. */
  seen(session: { id: string; accountId: string; expiresAt?: number }, request: RequestOrigin): Promise<void>;
  /** The engine destroyed a session (logout, a new id after sign-in). */
  ended(sessionId: string): Promise<void>;
}

export interface SessionDependencies {
  db: Kysely<Database>;
  engineState: Pick<EngineStateStore, 'accountSessions' | 'endSession'>;
  /** CONCURRENT_SESSION_LIMIT; 0 = none. */
  concurrentLimit: number;
  onEnded?: SessionEndListener[];
}

export function describeDevice(userAgent: string | null): string | null {
  if (!userAgent) return null;
  const { browser, os } = Bowser.parse(userAgent);
  const name = [browser.name, browser.version?.split('.')[0]].filter(Boolean).join(' ');
  if (!name) return os.name ?? null;
  return os.name ? `${name} on ${os.name}` : name;
}

const iso = (epochSeconds: number | undefined, fallback: Date) => (epochSeconds ? new Date(epochSeconds * 1000) : fallback).toISOString();

export function createSessionService(deps: SessionDependencies): SessionService {
  const { db, engineState } = deps;

  const view = (session: StoredSession, device: SessionDeviceRow | undefined, currentKey: string | undefined): AccountSession => {
    const created = device?.created_at ?? new Date((session.loginTs ?? 0) * 1000);
    return {
      id: session.key,
      createdAt: created.toISOString(),
      lastActiveAt: device?.last_active_at.toISOString() ?? iso(session.loginTs, created),
      userAgent: device?.user_agent ?? null,
      device: describeDevice(device?.user_agent ?? null),
      ip: device?.ip ?? null,
      current: session.key === currentKey,
    };
  };

  const list = async (accountId: string, currentSessionId?: string) => {
    const [sessions, devices] = await Promise.all([engineState.accountSessions(accountId), sessionDevicesOf(db, accountId)]);
    const byKey = new Map(devices.map((device) => [device.session_key, device]));
    const currentKey = currentSessionId ? storageId(currentSessionId) : undefined;
    return sessions.map((session) => view(session, byKey.get(session.key), currentKey)).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  };

  const end = async (accountId: string, key: string, reason: SessionEndReason) => {
    const ended = await engineState.endSession(accountId, key);
    if (!ended) return false;
    await forgetSessionDevice(db, key);
    for (const listener of deps.onEnded ?? []) await listener({ accountId, sessionId: key, reason });
    return true;
  };

  return {
    list,
    async revoke(accountId, id) {
      if (!(await end(accountId, id, 'user'))) throw new KeyholdError('not_found');
    },
    async revokeOthers(accountId, currentSessionId) {
      const currentKey = currentSessionId ? storageId(currentSessionId) : undefined;
      let count = 0;
      for (const session of await engineState.accountSessions(accountId)) {
        if (session.key !== currentKey && (await end(accountId, session.key, 'user_others'))) count++;
      }
      return count;
    },
    async seen(session, request) {
      const key = storageId(session.id);
      const started = await recordSessionDevice(db, {
        sessionKey: key,
        accountId: session.accountId,
        userAgent: request.userAgent?.slice(0, 512) || null,
        ip: request.ip ?? null,
        expiresAt: session.expiresAt ? new Date(session.expiresAt * 1000) : null,
      });
      if (!started || deps.concurrentLimit <= 0) return;
      const sessions = await list(session.accountId);
      // Newest first: everything past the limit, oldest, ends (never the one just started).
      const excess = sessions.filter((listed) => listed.id !== key).slice(Math.max(0, deps.concurrentLimit - 1));
      for (const old of excess) await end(session.accountId, old.id, 'limit');
    },
    async ended(sessionId) {
      await forgetSessionDevice(db, storageId(sessionId));
    },
  };
}
