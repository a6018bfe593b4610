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
