// Control characters in input. Postgres cannot store U+0000 in text or jsonb (it answers
// 22021/22P05, which surfaced as a 500), and no name, email, code or locale legitimately
// holds a control character; a line break in a single-line field is how header and log
// injection start. So input is refused at the edge: NUL and the other C0 controls and DEL
// everywhere, tab and line breaks only where a value may span lines.
import { z } from 'zod';
import { message } from '#src/messages/index.ts';

// C0 except tab, LF and CR; and DEL.
const CONTROL_EXCEPT_LINE_BREAKS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
// Every C0 control, DEL.
const ANY_CONTROL = /[\u0000-\u001F\u007F]/;

export const CONTROL_CHARACTERS_MESSAGE = message('validation.control_characters');

/** True when `value` holds a control character; tab, CR and LF pass when `multiLine`. */
export function hasControlCharacters(value: string, options: { multiLine?: boolean } = {}): boolean {
  return (options.multiLine ? CONTROL_EXCEPT_LINE_BREAKS : ANY_CONTROL).test(value);
}

/** True when any string inside a parsed body (keys included) holds a control character. */
export function containsControlCharacters(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return hasControlCharacters(value, { multiLine: true });
  // Parsers bound nesting already; the depth bound keeps a hostile shape cheap anyway.
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  for (const [key, item] of Object.entries(value)) {
    if (hasControlCharacters(key, { multiLine: true }) || containsControlCharacters(item, depth + 1)) return true;
  }
  return false;
}

/** A one-line text field: any schema of strings, refusing every control character. */
export function singleLine<T extends z.ZodType<string>>(schema: T) {
  return schema.refine((value) => !hasControlCharacters(value), { message: CONTROL_CHARACTERS_MESSAGE });
}

/** The common case: a one-line string of at most `max` characters. */
export const singleLineText = (max: number) => singleLine(z.string().max(max));

/** The token of a mailed link (`<flow id>.<secret>`), as a query value or a form field. */
export const linkToken = singleLine(z.string().trim().max(256));

/** A JSON value posted in a form field (a WebAuthn response); null when it is not JSON. */
export function parseJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return null;
  }
}
