// The shapes of row ids that reach Postgres from outside (a form, a URL, a cursor, the
// command line). Anything else is no such row, and must not reach a uuid or bigint column,
// where Postgres would refuse it with an error instead of answering no row.

/** A uuid column's id. */
export const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A bigserial column's id (positive, within bigint). */
export const SERIAL_SHAPE = /^[1-9]\d{0,17}$/;

export function isUuid(value: string): boolean {
  return UUID_SHAPE.test(value);
}
