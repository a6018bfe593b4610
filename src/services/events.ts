// Emitting an event: one row in the SQL outbox. Pass the transaction that makes the change
// (`executor`) and the event exists exactly when the change does; the delivery worker
// (services/event-delivery.ts) takes it from there, on any node, at least once.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { EventData, EventType } from '#src/services/event-types.ts';
import { recordAudit, recordAuditWithEvent, type AuditEvent } from '#src/stores/audit-store.ts';
import { insertEvent } from '#src/stores/event-store.ts';
import type { Database } from '#src/stores/schema.ts';

export type { EventData, EventType } from '#src/services/event-types.ts';

/** Records an event for delivery; resolves to its id. */
export async function emitEvent<T extends EventType>(executor: Kysely<Database> | Transaction<Database>, type: T, data: EventData[T]): Promise<string> {
  const id = randomUUID();
  await insertEvent(executor, { id, type, data: data as unknown as Record<string, unknown> });
  return id;
}

/** emitEvent bound to a database: what services receive. */
export interface EventEmitter {
  emit<T extends EventType>(type: T, data: EventData[T], executor?: Kysely<Database> | Transaction<Database>): Promise<string>;
  /** The event together with its audit entry, in one statement (both or neither). */
  emitWithAudit<T extends EventType>(type: T, data: EventData[T], audit: AuditEvent): Promise<string>;
}

export function createEventEmitter(db: Kysely<Database>): EventEmitter {
  return {
    emit: (type, data, executor = db) => emitEvent(executor, type, data),
    async emitWithAudit(type, data, audit) {
      const id = randomUUID();
      try {
        await recordAuditWithEvent(db, audit, { id, type, data: data as unknown as Record<string, unknown> });
      } catch (error) {
        // The event could not be stored: the audit entry still is (as when they were two
        // statements), and the caller hears of the failure.
        await recordAudit(db, audit);
        throw error;
      }
      return id;
    },
  };
}
