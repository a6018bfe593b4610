// How a zod refusal becomes what the client is told, for the JSON routes (route.ts, the
// `issues` of validation_failed) and the HTML forms (form.ts, the errors beside each field)
// alike: one dotted path and one text per problem. Where a schema gives no text of its own,
// the text comes from the catalogue rather than zod's built-in English.
import { z } from 'zod';
import { message } from '#src/messages/index.ts';

export interface InputIssue {
  /** Dotted path of the offending value (`email`, `address.street`); empty for the whole input. */
  path: string;
  message: string;
}

export type ParsedInput<T> = { ok: true; data: T } | { ok: false; issues: InputIssue[] };

// Consulted only for issues whose schema set no message (schema texts win).
const catalogueTexts: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'too_big' && issue.origin === 'string') return message('validation.at_most', { max: String(issue.maximum) });
  if (issue.code === 'too_small' && issue.origin === 'string') return message('validation.at_least', { min: String(issue.minimum) });
  if (issue.code === 'unrecognized_keys') return message('validation.unknown_field');
  return message('validation.invalid');
};

/** The issues of a zod refusal, each with its dotted path. */
export function inputIssues(error: z.ZodError): InputIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Checks `value` against `schema`: the parsed value, or the issues. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): ParsedInput<z.output<S>> {
  const parsed = schema.safeParse(value, { error: catalogueTexts });
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, issues: inputIssues(parsed.error) };
}
