// The engine's storage adapter over Redis (standalone or Cluster).
//
// Keys (P = the configured prefix, h = a hash from oidc-adapter-common.ts):
//   P{Model:h}             hash  { payload: sealed JSON, consumed?: epoch seconds }
//   P{Model:uid:h}         string → the object's key (Session.findByUid)
//   P{Model:userCode:h}    string → the object's key (DeviceCode.findByUserCode)
//   P{grant:h}             set of the keys of every object carrying that grantId
//   P{account:h}           set of the keys of an account's Sessions and Grants
// Objects and their uid/userCode indexes expire with the object's TTL; the grant index
// lives as long as its longest-lived member.
//
// Why this works on Redis Cluster: Cluster routes a key by the CRC16 of the text inside
// its first {…}, and refuses (CROSSSLOT) any command or script naming keys in different
// slots. Every key above carries its own tag, so keys spread evenly over the slots, and no
// command or Lua script in this file names more than one key: the upsert and consume
// scripts touch only the object's key, the grant-index script only the index key, and the
// index clean-up script only its index key. Multi-object work (revocation, index upkeep)
// is issued as separate single-key commands, never as a multi-key DEL, MULTI or a pipeline
// spanning slots. The prefix must therefore contain no braces: a `{…}` in it would become
// the tag of every key and pin the whole store to one slot.
import { createHash } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import { hashToken } from '#src/crypto.ts';
import type { RedisClient } from '#src/stores/redis.ts';
import {
  GRANT_MODEL,
  REPLAY_MODEL,
  assertEncryptionKey,
  consumeNotFound,
  epochSeconds,
  grantStorageKey,
  graceView,
  handleConsumeConflict,
  replayDetected,
  isSessionKey,
  sealPayload,
  storedSessionOf,
  storageId,
  uidStorageKey,
  unsealPayload,
  userCodeStorageKey,
  type EngineStateStore,
  type KeptState,
  type OidcAdapterOptions,
  type StoredSession,
} from '#src/stores/oidc-adapter-common.ts';

export interface RedisAdapterOptions extends OidcAdapterOptions {
  prefix: string;
}

interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// KEYS[1] object key; ARGV: payload JSON, consumed epoch ('' = not consumed), TTL seconds
// ('' = none). `consumed` is only ever set, never cleared: an upsert of a copy read before
// a concurrent consume must not make the object usable again.
const UPSERT = script(`
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSETNX', KEYS[1], 'consumed', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[3]) else redis.call('PERSIST', KEYS[1]) end
return 1
`);

// KEYS[1] object key; ARGV: payload JSON, TTL seconds. Stores the object only when absent:
// 1 when this call stored it, 0 when it was there already.
const INSERT_ONCE = script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
`);

// KEYS[1] object key; ARGV[1] now (epoch seconds). Returns 1 when this call consumed the
// object, -1 when it does not exist, otherwise (already consumed) [payload, consumed].
const CONSUME = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 1 then return 1 end
return redis.call('HMGET', KEYS[1], 'payload', 'consumed')
`);

// KEYS[1] grant index; ARGV: member key, member TTL in ms ('' = none). Keeps the index
// alive as long as its longest-lived member.
const GRANT_ADD = script(`
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  redis.call('PERSIST', KEYS[1])
elseif existed == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  local current = redis.call('PTTL', KEYS[1])
  if current >= 0 and current < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
return 1
`);

// KEYS[1] uid/userCode index; ARGV[1] object key. Deletes the index only while it still
// points at that object.
const DELETE_IF_POINTS_TO = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

async function run(redis: RedisClient, { source, sha }: Script, key: string, ...args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(sha, 1, key, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval(source, 1, key, ...args);
  }
}

// Models listed per account, so that all of an account's state can be ended at once.
const ACCOUNT_INDEXED_MODELS = new Set(['Session', GRANT_MODEL]);

export function createRedisAdapter(redis: RedisClient, options: RedisAdapterOptions): EngineStateStore {
  const { prefix, encryptionKey } = options;
  assertEncryptionKey(encryptionKey);
  if (/[{}]/.test(prefix)) throw new TypeError('the Redis prefix must not contain braces (it would become every key\'s hash tag)');

  const objectKey = (model: string, storedId: string) => `${prefix}{${model}:${storedId}}`;
  const uidKey = (model: string, hashed: string) => `${prefix}{${model}:uid:${hashed}}`;
  const userCodeKey = (model: string, hashed: string) => `${prefix}{${model}:userCode:${hashed}}`;
  const grantKey = (hashedGrantId: string) => `${prefix}{grant:${hashedGrantId}}`;
  const accountKey = (accountId: string) => `${prefix}{account:${hashToken(accountId)}}`;

  /**
   * Deletes every object of the grant, one key per command, then removes exactly those
   * members from the index (Redis drops the set once empty). Not a DEL of the index: an
   * object upserted meanwhile stays listed, so a later revocation still finds it.
   */
  async function revokeGrantMembers(grantId: string): Promise<void> {
    const index = grantKey(grantStorageKey(grantId));
    const members = await redis.smembers(index);
    if (members.length === 0) return;
    await Promise.all(members.map((member) => redis.del(member)));
    await redis.srem(index, ...members);
  }

  const Adapter = class RedisOidcAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    private async load(key: string, storedId: string, id?: string): Promise<AdapterPayload | undefined> {
      const record = await redis.hgetall(key);
      if (record.payload === undefined) return undefined;
      const consumed = record.consumed === undefined ? undefined : Number(record.consumed);
      return graceView(this.model, unsealPayload(encryptionKey, this.model, storedId, JSON.parse(record.payload) as Record<string, unknown>, consumed, id), options.refreshGrace);
    }

    /** Resolves a uid/userCode index to the object it points at. */
    private async loadIndexed(index: string): Promise<AdapterPayload | undefined> {
      const key = await redis.get(index);
      const head = `${prefix}{${this.model}:`;
      if (!key?.startsWith(head) || !key.endsWith('}')) return undefined;
      return this.load(key, key.slice(head.length, -1));
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const sealed = sealPayload(encryptionKey, this.model, id, payload);
      const key = objectKey(this.model, sealed.storedId);
      const ttl = typeof expiresIn === 'number' ? Math.max(1, Math.ceil(expiresIn)) : undefined;
      if (this.model === REPLAY_MODEL) {
        if ((await run(redis, INSERT_ONCE, key, JSON.stringify(sealed.stored), ttl ?? 60)) !== 1) throw replayDetected();
        return;
      }
      // Written before the object, so that a revocation that sees the object sees it listed.
      if (sealed.grantKey) {
        await run(redis, GRANT_ADD, grantKey(sealed.grantKey), key, ttl === undefined ? '' : ttl * 1000);
      }
      if (ACCOUNT_INDEXED_MODELS.has(this.model) && typeof payload.accountId === 'string') {
        await run(redis, GRANT_ADD, accountKey(payload.accountId), key, ttl === undefined ? '' : ttl * 1000);
      }
      await run(redis, UPSERT, key, JSON.stringify(sealed.stored), sealed.consumed ?? '', ttl ?? '');
      const indexes: Promise<unknown>[] = [];
      for (const index of [
        sealed.uidKey && uidKey(this.model, sealed.uidKey),
        sealed.userCodeKey && userCodeKey(this.model, sealed.userCodeKey),
      ]) {
        if (!index) continue;
        indexes.push(ttl === undefined ? redis.set(index, key) : redis.set(index, key, 'EX', ttl));
      }
      await Promise.all(indexes);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const storedId = storageId(id);
      return this.load(objectKey(this.model, storedId), storedId, id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const payload = await this.loadIndexed(uidKey(this.model, uidStorageKey(uid)));
      return payload?.uid === uid ? payload : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const payload = await this.loadIndexed(userCodeKey(this.model, userCodeStorageKey(encryptionKey, userCode)));
      return payload?.userCode === userCode ? payload : undefined;
    }

    async consume(id: string): Promise<void> {
      const storedId = storageId(id);
      const result = await run(redis, CONSUME, objectKey(this.model, storedId), epochSeconds());
      if (result === 1) return;
      if (!Array.isArray(result) || typeof result[0] !== 'string') throw consumeNotFound(this.model);
      const stored = JSON.parse(result[0]) as { grantId?: unknown; accountId?: unknown; clientId?: unknown };
      await handleConsumeConflict(this.model, stored, async (revoked) => {
        await Promise.all([
          revokeGrantMembers(revoked),
          redis.del(objectKey(GRANT_MODEL, storageId(revoked))),
        ]);
      }, { ...options, consumed: Number(result[1]) });
    }

    async destroy(id: string): Promise<void> {
      const storedId = storageId(id);
      const key = objectKey(this.model, storedId);
      const raw = await redis.hget(key, 'payload');
      await redis.del(key);
      if (raw === null) return;
      const payload = unsealPayload(encryptionKey, this.model, storedId, JSON.parse(raw) as Record<string, unknown>, undefined, id);
      const cleanups: Promise<unknown>[] = [];
      if (typeof payload.grantId === 'string') cleanups.push(redis.srem(grantKey(grantStorageKey(payload.grantId)), key));
      if (typeof payload.uid === 'string') {
        cleanups.push(run(redis, DELETE_IF_POINTS_TO, uidKey(this.model, uidStorageKey(payload.uid)), key));
      }
      if (typeof payload.userCode === 'string') {
        cleanups.push(run(redis, DELETE_IF_POINTS_TO, userCodeKey(this.model, userCodeStorageKey(encryptionKey, payload.userCode)), key));
      }
      await Promise.all(cleanups);
    }

    /**
     * Deletes every object of the grant, whatever its model. The Grant object itself is
     * left to the engine, which destroys it separately when its revokeGrantPolicy says so
     * (by default not when only an access token is revoked).
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      await revokeGrantMembers(grantId);
    }
  };

  return {
    Adapter,
    /**
     * Ends everything an account holds: its sessions, and every grant with the tokens and
     * codes issued under it (password reset, account deletion, admin "log out everywhere").
     */
    async revokeAccount(accountId: string, keep: KeptState = {}): Promise<void> {
      const index = accountKey(accountId);
      const kept = new Set([
        ...(keep.sessionIds ?? []).map((id) => objectKey('Session', storageId(id))),
        ...(keep.grantIds ?? []).map((id) => objectKey(GRANT_MODEL, storageId(id))),
      ]);
      const members = (await redis.smembers(index)).filter((member) => !kept.has(member));
      const grantHead = `${prefix}{${GRANT_MODEL}:`;
      await Promise.all(
        members.map(async (member) => {
          if (member.startsWith(grantHead)) {
            const raw = await redis.hget(member, 'payload');
            const storedId = member.slice(grantHead.length, -1);
            if (raw !== null) {
              const grant = unsealPayload(encryptionKey, GRANT_MODEL, storedId, JSON.parse(raw) as Record<string, unknown>, undefined);
              if (typeof grant.jti === 'string') await revokeGrantMembers(grant.jti);
            }
          }
          await redis.del(member);
        }),
      );
      if (members.length > 0) await redis.srem(index, ...members);
    },

    async accountSessions(accountId: string): Promise<StoredSession[]> {
      const index = accountKey(accountId);
      const head = `${prefix}{Session:`;
      const members = (await redis.smembers(index)).filter((member) => member.startsWith(head));
      const sessions: StoredSession[] = [];
      const gone: string[] = [];
      await Promise.all(
        members.map(async (member) => {
          const raw = await redis.hget(member, 'payload');
          const stored = raw === null ? undefined : (JSON.parse(raw) as Record<string, unknown>);
          if (stored?.accountId !== accountId) return void gone.push(member);
          sessions.push(storedSessionOf(member.slice(head.length, -1), stored));
        }),
      );
      // Expired sessions leave their index entries behind; listing is a good time to drop them.
      if (gone.length > 0) await redis.srem(index, ...gone);
      return sessions;
    },

    async endSession(accountId: string, sessionKey: string): Promise<boolean> {
      if (!isSessionKey(sessionKey)) return false;
      const key = objectKey('Session', sessionKey);
      const raw = await redis.hget(key, 'payload');
      const stored = raw === null ? undefined : (JSON.parse(raw) as Record<string, unknown>);
      if (stored?.accountId !== accountId) return false;
      const { grantIds } = storedSessionOf(sessionKey, stored);
      await Promise.all(
        grantIds.map(async (grantId) => {
          const grant = objectKey(GRANT_MODEL, storageId(grantId));
          await Promise.all([revokeGrantMembers(grantId), redis.del(grant)]);
          await redis.srem(accountKey(accountId), grant);
        }),
      );
      await redis.del(key);
      await redis.srem(accountKey(accountId), key);
      return true;
    },
  };
}
