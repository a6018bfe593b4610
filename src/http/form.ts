// The form side of the route guard (route.ts): an HTML form's body is checked against a zod
// schema declared next to its route, with the same issues as the JSON routes
// (http/input.ts). A refusal is not the error page: the route re-renders its form, status
// 400, with each field's error beside it and the values that were typed kept. Routes check
// CSRF before reading the form, so a forged post learns nothing about the fields.
import type { Context } from 'koa';
import type { z } from 'zod';
import { parseInput, type InputIssue } from '#src/http/input.ts';
import { message, type MessageKey } from '#src/messages/index.ts';

/** Status of a form re-rendered with its field errors. */
export const FORM_REFUSED = 400;

export type FormResult<T> =
  | { ok: true; data: T }
  | {
      ok: false;
      /** The first problem of each top-level field (`''` for the form as a whole). */
      fieldErrors: Record<string, string>;
      issues: InputIssue[];
      /** The single-valued text fields as posted, to fill the form again. */
      values: Record<string, string>;
    };

/** The posted form checked against `schema`. */
export function readForm<S extends z.ZodType>(ctx: Context, schema: S): FormResult<z.output<S>> {
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  const parsed = parseInput(schema, body);
  if (parsed.ok) return parsed;
  const fieldErrors: Record<string, string> = {};
  for (const issue of parsed.issues) fieldErrors[issue.path.split('.')[0]!] ??= issue.message;
  const values = Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  return { ok: false, fieldErrors, issues: parsed.issues, values };
}

/** Field errors as one list above a form, each as "<label>: <problem>". */
export function listedFieldErrors(fieldErrors: Record<string, string>, labels: Partial<Record<string, MessageKey>>): string[] {
  return Object.entries(fieldErrors).map(([field, problem]) => {
    const label = labels[field];
    return label ? message('validation.field', { label: message(label), problem }) : problem;
  });
}
