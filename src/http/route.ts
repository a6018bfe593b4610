// One guard for every JSON route: a route is declared once — method, path, the zod schemas
// of its params, query, body and answer, the scopes it needs, the error codes it may answer
// — and that declaration both validates requests at the edge and is the OpenAPI document
// (src/http/openapi.ts). A route cannot be served without being documented, nor documented
// without being served.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { KeyholdError, type ErrorCode } from '#src/errors.ts';
import { inputIssues, parseInput, type InputIssue } from '#src/http/input.ts';
import { jsonBody } from '#src/middleware/body.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A security scheme the route needs (declared in the OpenAPI components) and its scopes. */
export interface RouteSecurity {
  scheme: string;
  scopes: string[];
}

export interface RouteResponse<S extends z.ZodType = z.ZodType> {
  description: string;
  /** Absent for a body-less answer (204, 202 without body). */
  schema?: S;
  headers?: Record<string, { description: string }>;
}

type Shape = z.ZodType<Record<string, unknown>>;

export interface RouteSpec<P extends Shape, Q extends Shape, B extends z.ZodType, R extends z.ZodType> {
  method: HttpMethod;
  /** Koa-router syntax (`/api/admin/users/:id`); documented as `{id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag?: string;
  security?: RouteSecurity;
  params?: P;
  query?: Q;
  /** A JSON body (application/json). */
  body?: B;
  /** The status of a successful answer, with what it carries. */
  success: { status: number } & RouteResponse<R>;
  /** Every error code the handler itself may answer with (auth and body errors are added). */
  errors?: ErrorCode[];
  handle(ctx: Context, input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> }): Promise<z.input<R> | void> | z.input<R> | void;
}

export type AnyRouteSpec = RouteSpec<Shape, Shape, z.ZodType, z.ZodType>;

/** Declares a route; the identity function that gives the handler its input types. */
export function defineRoute<P extends Shape = z.ZodObject<{}>, Q extends Shape = z.ZodObject<{}>, B extends z.ZodType = z.ZodUndefined, R extends z.ZodType = z.ZodUndefined>(
  spec: RouteSpec<P, Q, B, R>,
): AnyRouteSpec {
  return spec as unknown as AnyRouteSpec;
}

/** `validation_failed` with each problem's dotted path, from a zod refusal. */
export function validationFailed(error: z.ZodError, where: 'body' | 'query' | 'params'): KeyholdError {
  return refused(inputIssues(error), where);
}

function refused(issues: InputIssue[], where: 'body' | 'query' | 'params'): KeyholdError {
  return new KeyholdError('validation_failed', { params: { part: where === 'params' ? 'path' : where }, fields: { issues } });
}

function parseWith<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'body' | 'query' | 'params'): T {
  if (!schema) return undefined as T;
  const parsed = parseInput(schema, value);
  if (!parsed.ok) throw refused(parsed.issues, where);
  return parsed.data;
}

export interface MountOptions {
  bodyLimit: string;
  /** Middleware that authenticates a caller for a scheme and scopes (before the body is read). */
  authenticators: Record<string, (scopes: string[]) => Middleware>;
  /** Check answers against their schemas (development and tests): a mismatch is a bug. */
  checkResponses: boolean;
}

/** Registers declared routes on a router with their guards. */
export function mountRoutes(router: Router, specs: readonly AnyRouteSpec[], options: MountOptions): Router {
  const json = jsonBody(options.bodyLimit);
  for (const spec of specs) {
    const chain: Middleware[] = [];
    if (spec.security) {
      const authenticator = options.authenticators[spec.security.scheme];
      if (!authenticator) throw new Error(`route ${spec.operationId}: no authenticator for scheme ${spec.security.scheme}`);
      chain.push(authenticator(spec.security.scopes));
    }
    // Authentication runs before the body is even read: an anonymous caller learns nothing
    // about what the route would accept.
    if (spec.body) chain.push(json);
    chain.push(async (ctx) => {
      const input = {
        params: parseWith(spec.params, ctx.params ?? {}, 'params'),
        query: parseWith(spec.query, ctx.query, 'query'),
        body: parseWith(spec.body, ctx.request.body, 'body'),
      };
      const result = await spec.handle(ctx, input);
      ctx.status = spec.success.status;
      if (spec.success.schema) {
        if (options.checkResponses) {
          const checked = spec.success.schema.safeParse(result);
          if (!checked.success) throw new Error(`route ${spec.operationId} answered outside its schema: ${checked.error.message}`);
        }
        if (ctx.body === undefined || ctx.body === null) ctx.body = result;
      }
    });
    router.register(spec.path, [spec.method.toUpperCase()], chain as never, { name: spec.operationId });
  }
  return router;
}
