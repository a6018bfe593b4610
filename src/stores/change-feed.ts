// Tells every node's caches (src/stores/lookup-cache.ts) that a row they may hold changed.
// The changes are seen where they happen, in SQL: a Kysely plugin notices every insert,
// update and delete on the watched tables, whichever service, route or CLI command runs it,
// and names the rows by the key in the statement's WHERE (`id = …`, `id in (…)`), or the
// whole table when it cannot tell. Each change is delivered in this process at once and to
// every other node through Redis pub/sub; without Redis (embedded mode: one process) only
// locally, and another process's change (the CLI) is bounded by the caches' TTL.
//
// A write inside a transaction is seen before it commits: a node that reads the row again
// meanwhile reads the old one. So every change is delivered a second time SETTLE_MS later,
// when the transaction has normally committed; a longer one is bounded by the TTL.
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '#src/stores/redis.ts';
import type { KyselyPlugin, OperationNode, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import type { Logger } from 'pino';

export type WatchedTable = 'clients' | 'resources' | 'accounts' | 'tenants' | 'connectors';

/** Rows of `table` changed: those with these keys, or (keys null) any of them. */
export interface Change {
  table: WatchedTable;
  /** Key values (clients.client_id, resources.identifier, accounts.id, tenants.id, connectors.id); [] for new rows only. */
  keys: string[] | null;
}

const KEY_COLUMNS: Record<WatchedTable, string> = { clients: 'client_id', resources: 'identifier', accounts: 'id', tenants: 'id', connectors: 'id' };
// Columns no cache reads: an update of these alone evicts nothing. Every password sign-in
// sets accounts.last_login_at, and evicting the account there would make the engine read
// it again for the very tokens that sign-in is about to issue (on every node, through
// pub/sub). The cached account's lastLoginAt may therefore be up to CACHE_TTL old; the
// engine's claims never include it, and the Account and Admin APIs read the row itself.
const UNCACHED_COLUMNS: Partial<Record<WatchedTable, ReadonlySet<string>>> = { accounts: new Set(['last_login_at']) };
const SETTLE_MS = 1000;

export interface ChangeFeed {
  /** A change made by this process: delivered here, and published to the other nodes. */
  emit(change: Change): void;
  /** Listens to changes from this process and every other node. */
  subscribe(listener: (change: Change) => void): void;
  /** Waits for pending publications; closes the subscription connection. */
  close(): Promise<void>;
}

export function createChangeFeed(options: { redis?: RedisClient; prefix: string; logger: Pick<Logger, 'warn'> }): ChangeFeed {
  const channel = `${options.prefix}changes`;
  const origin = randomUUID();
  const listeners: Array<(change: Change) => void> = [];
  const pending = new Set<Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  let subscriber: RedisClient | undefined;

  const deliver = (change: Change) => {
    for (const listener of listeners) listener(change);
    const timer = setTimeout(() => {
      timers.delete(timer);
      for (const listener of listeners) listener(change);
    }, SETTLE_MS);
    timer.unref();
    timers.add(timer);
  };

  const connect = () => {
    if (!options.redis || subscriber) return;
    // A cluster's duplicate subscribes on one of its nodes; PUBLISH reaches every node.
    const redis = options.redis;
    const subscriberClient: RedisClient = 'isCluster' in redis && redis.isCluster ? (redis as Cluster).duplicate() : (redis as Redis).duplicate();
    subscriber = subscriberClient;
    subscriber.on('error', (error) => options.logger.warn({ err: { message: error.message } }, 'redis change feed connection error'));
    // Messages sent while the connection was down are lost: whatever was cached may be
    // stale. (The first connection misses nothing: the caches start empty.)
    // Subscribed once the connection is ready, and again after each reconnection: Redis
    // connections have no offline queue (src/stores/redis.ts), so a SUBSCRIBE sent before
    // would fail, and SUBSCRIBE of a channel already subscribed is harmless.
    let connectedBefore = false;
    const client = subscriber;
    subscriber.on('ready', () => {
      void client.subscribe(channel).catch((error: Error) => options.logger.warn({ err: { message: error.message } }, 'redis change feed subscription failed'));
      if (!connectedBefore) {
        connectedBefore = true;
        return;
      }
      for (const table of Object.keys(KEY_COLUMNS) as WatchedTable[]) deliver({ table, keys: null });
    });
    subscriber.on('message', (_channel: string, message: string) => {
      try {
        const parsed = JSON.parse(message) as { origin: string; change: Change };
        if (parsed.origin !== origin && parsed.change.table in KEY_COLUMNS) deliver(parsed.change);
      } catch {
        // Not ours; nothing to evict.
      }
    });
  };

  return {
    emit(change) {
      deliver(change);
      if (!options.redis) return;
      const publication = options.redis
        .publish(channel, JSON.stringify({ origin, change }))
        .catch((error: Error) => options.logger.warn({ err: { message: error.message }, table: change.table }, 'cache change not published; other nodes catch up within CACHE_TTL'))
        .finally(() => pending.delete(publication));
      pending.add(publication);
    },
    subscribe(listener) {
      listeners.push(listener);
      connect();
    },
    async close() {
      await Promise.allSettled([...pending]);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      listeners.length = 0;
      if (subscriber) await subscriber.quit().catch(() => subscriber?.disconnect());
    },
  };
}

// --- Reading a statement ------------------------------------------------------------------

type Node = OperationNode & Record<string, unknown>;

function tableName(node: unknown): string | undefined {
  const table = node as Node | undefined;
  if (!table) return undefined;
  if (table.kind === 'AliasNode') return tableName(table.node);
  if (table.kind === 'TableNode') return ((table.table as Node).identifier as { name: string }).name;
  return undefined;
}

/** The key values a WHERE pins the rows to (`key = v`, `key in (…)`, under AND); null if none. */
function keysOf(where: unknown, keyColumn: string): string[] | null {
  const node = where as Node | undefined;
  if (!node) return null;
  if (node.kind === 'WhereNode') return keysOf(node.where, keyColumn);
  if (node.kind === 'ParensNode') return keysOf(node.node, keyColumn);
  if (node.kind === 'AndNode') return keysOf(node.left, keyColumn) ?? keysOf(node.right, keyColumn);
  if (node.kind !== 'BinaryOperationNode') return null;
  const left = node.leftOperand as Node;
  const operator = (node.operator as { operator?: string }).operator;
  const column = left.kind === 'ReferenceNode' ? ((left.column as Node).column as { name?: string } | undefined)?.name : undefined;
  if (column !== keyColumn) return null;
  const right = node.rightOperand as Node;
  if (operator === '=' && right.kind === 'ValueNode') return [String(right.value)];
  if (operator === 'in' && right.kind === 'PrimitiveValueListNode') return (right.values as unknown[]).map(String);
  if (operator === 'in' && right.kind === 'ValueListNode') {
    const values = right.values as Node[];
    return values.every((value) => value.kind === 'ValueNode') ? values.map((value) => String(value.value)) : null;
  }
  return null;
}

/** Whether an UPDATE's SET names only columns no cache reads. */
function setsOnlyUncached(updates: unknown, uncached: ReadonlySet<string> | undefined): boolean {
  if (!uncached || !Array.isArray(updates) || updates.length === 0) return false;
  return (updates as Node[]).every((update) => {
    const column = update.column as Node | undefined;
    const name = column?.kind === 'ColumnNode' ? (column.column as { name?: string } | undefined)?.name : undefined;
    return name !== undefined && uncached.has(name);
  });
}

/** The change a statement makes to a watched table, if any. */
export function changeOf(node: RootOperationNode): Change | undefined {
  const query = node as unknown as Node;
  let table: string | undefined;
  let keys: string[] | null = null;
  if (query.kind === 'UpdateQueryNode') {
    table = tableName(query.table);
    if (table && table in KEY_COLUMNS && setsOnlyUncached(query.updates, UNCACHED_COLUMNS[table as WatchedTable])) return undefined;
    if (table && table in KEY_COLUMNS) keys = keysOf(query.where, KEY_COLUMNS[table as WatchedTable]);
  } else if (query.kind === 'DeleteQueryNode') {
    const froms = (query.from as { froms?: unknown[] } | undefined)?.froms ?? [];
    table = froms.length === 1 ? tableName(froms[0]) : undefined;
    if (table && table in KEY_COLUMNS) keys = keysOf(query.where, KEY_COLUMNS[table as WatchedTable]);
  } else if (query.kind === 'InsertQueryNode') {
    table = tableName(query.into);
    // New rows change no cached entry (absent results are not cached); an upsert may
    // change any row it conflicts with.
    const onConflict = query.onConflict as { updates?: unknown[] } | undefined;
    keys = onConflict?.updates?.length ? null : [];
  } else {
    return undefined;
  }
  if (!table || !(table in KEY_COLUMNS)) return undefined;
  return { table: table as WatchedTable, keys };
}

/**
 * Every change a statement makes to watched tables: its own, and those of its WITH clauses
 * (a data-modifying CTE writes whatever statement it is attached to, a SELECT included).
 */
export function changesOf(node: RootOperationNode): Change[] {
  const ctes = ((node as unknown as Node).with as { expressions?: Node[] } | undefined)?.expressions ?? [];
  const own = changeOf(node);
  return [...(own ? [own] : []), ...ctes.flatMap((cte) => changesOf(cte.expression as unknown as RootOperationNode))];
}

/** The Kysely plugin that reports every successful write to a watched table to `feed`. */
export function changeFeedPlugin(feed: Pick<ChangeFeed, 'emit'>): KyselyPlugin {
  const changes = new WeakMap<object, Change[]>();
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      const found = changesOf(args.node);
      if (found.length > 0) changes.set(args.queryId, found);
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      for (const change of changes.get(args.queryId) ?? []) feed.emit(change);
      return args.result;
    },
  };
}
