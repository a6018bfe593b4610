// Cursor pagination for admin lists: a page is asked with the last key of the previous one
// (opaque to callers), and has a next cursor only when more items follow.
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

/** The key inside a cursor; a cursor that is not one of ours reads as the end of the list. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** Loads one more than the page holds to learn whether another page follows. */
export async function loadPage<R, T>(request: PageRequest, load: (page: { cursor?: string; limit: number }) => Promise<R[]>, key: (row: R) => string, map: (row: R) => T): Promise<Page<T>> {
  const limit = Math.min(Math.max(request.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  const rows = await load({ cursor: decodeCursor(request.cursor), limit: limit + 1 });
  const page = rows.slice(0, limit);
  return { items: page.map(map), nextCursor: rows.length > limit ? encodeCursor(key(page.at(-1)!)) : null };
}
