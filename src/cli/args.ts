// Command-line parsing for the `keyhold` command, and the one-line messages its contract
// requires (src/cli.ts).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** The command line cannot be turned into a request: exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

// node:util's messages are multi-line and capitalised; the contract is one line.
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

export function describeError(error: unknown): string {
  // net's happy-eyeballs connect (localhost → ::1 and 127.0.0.1) fails with an
  // AggregateError whose own message is empty.
  if (error instanceof AggregateError && error.errors.length > 0 && !error.message) return describeError(error.errors[0]);
  if (!(error instanceof Error)) return oneLine(String(error));
  return oneLine(error.message || error.name);
}

/** Runs a node:util parseArgs call, turning its errors into one-line usage errors. */
export function parse<T>(parser: () => T): T {
  try {
    return parser();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS_')) {
      const message = oneLine((error as Error).message);
      throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
    }
    throw error;
  }
}

/** A command's --options (no positional arguments), parsed strictly. */
export function parseOptions<const O extends ParseArgsOptionsConfig>(args: string[], options: O) {
  return parse(() => parseArgs({ args, strict: true, allowPositionals: false, options })).values;
}

export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new UsageError(`missing required option --${flag}`);
  return value;
}

/** A space-separated --scopes value, which must name at least one scope. */
export function scopeList(value: string | undefined): string[] {
  const scopes = required(value, 'scopes').split(/\s+/).filter(Boolean);
  if (scopes.length === 0) throw new UsageError('--scopes must list at least one scope');
  return scopes;
}

/** A `--x true|false` value. */
export function booleanOption(value: string | undefined, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw new UsageError(`--${flag} must be true or false`);
  return value === 'true';
}

/** `--cursor C --limit N` of list commands. */
export const pageOptions = { cursor: { type: 'string' }, limit: { type: 'string' } } as const;

export function pageRequest(values: { cursor?: string; limit?: string }): { cursor?: string; limit?: number } {
  if (values.limit !== undefined && !/^[1-9]\d{0,2}$/.test(values.limit)) throw new UsageError('--limit must be a whole number from 1 to 200');
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && limit > 200) throw new UsageError('--limit must be a whole number from 1 to 200');
  return { cursor: values.cursor, limit };
}

/** A JSON object given as an option's value. */
export function jsonObjectOption(text: string, flag: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--${flag} is not valid JSON: ${oneLine((error as Error).message)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`--${flag} must be a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * A secret read from standard input (`--password-stdin`), so that it stays out of shell
 * history and process listings: everything up to the end of input, without the final newline.
 */
export async function readSecretFromStdin(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let text = '';
  for await (const chunk of input) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new UsageError('--password-stdin: standard input is empty');
  return secret;
}
