// Cursor pagination for admin lists: a page is asked with the last key of the previous one
// (opaque to callers), and has a next cursor only when more items follow. A cursor that no
// list gave out is refused before it reaches SQL (a bigint or uuid column would not take it).
import { KeyholdError } from '#src/errors.ts';
import { message } from '#src/messages/index.ts';

export interface PageRequest {
  cursor?: string;
  limit?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}


/** The key inside a cursor; refused (validation_failed) when it is not of the list's shape. */
export function decodeCursor(cursor: string | undefined, shape?: RegExp): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const key = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (key === '' || (shape && !shape.test(key)) || /[\u0000-\u001f\u007f]/.test(key)) {
    throw new KeyholdError('validation_failed', { params: { part: 'query' }, fields: { issues: [{ path: 'cursor', message: message('validation.cursor') }] } });
  }
  return key;
}

/** Loads one more than the page holds to learn whether another page follows. */
export async function loadPage<R, T>(
  request: PageRequest,
  load: (page: { cursor?: string; limit: number }) => Promise<R[]>,
  key: (row: R) => string,
  map: (row: R) => T,
  shape?: RegExp,
): Promise<Page<T>> {
  const limit = Math.min(Math.max(request.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  const rows = await load({ cursor: decodeCursor(request.cursor, shape), limit: limit + 1 });
  const page = rows.slice(0, limit);
  return { items: page.map(map), nextCursor: rows.length > limit ? encodeCursor(key(page.at(-1)!)) : null };
}
