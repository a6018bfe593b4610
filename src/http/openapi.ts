// The OpenAPI 3.1 document of Keyhold's REST APIs, generated from the route declarations
// (src/http/route.ts) and their zod schemas: nothing here restates a schema by hand.
// Schemas that carry `.meta({ id })` become named components; the rest are inlined.
import { z } from 'zod';
import { errorCodes, errorRegistry, type ErrorCode } from '#src/errors.ts';
import type { AnyRouteSpec } from '#src/http/route.ts';

export interface DocumentOptions {
  title: string;
  description: string;
  issuer: string;
  securitySchemes: Record<string, Record<string, unknown>>;
  /** How a route's RouteSecurity is written as OpenAPI security requirements. */
  securityRequirements(scheme: string, scopes: string[]): Array<Record<string, string[]>>;
}

type JsonSchema = Record<string, unknown>;

// Dates leave the API as RFC 3339 strings.
const override: NonNullable<Parameters<typeof z.toJSONSchema>[1]>['override'] = ({ zodSchema, jsonSchema }) => {
  if ((zodSchema as unknown as z.ZodType)._zod.def.type === 'date') {
    for (const key of Object.keys(jsonSchema)) delete (jsonSchema as JsonSchema)[key];
    Object.assign(jsonSchema, { type: 'string', format: 'date-time' });
  }
};

const componentUri = (id: string) => `#/components/schemas/${id}`;

/** The named schemas (by `.meta({ id })`) reachable from the routes, as components. */
function namedSchemas(specs: readonly AnyRouteSpec[]): z.core.$ZodRegistry<{ id: string }> {
  const registry = z.registry<{ id: string }>();
  const visit = (schema: z.ZodType | undefined) => {
    const id = schema ? (z.globalRegistry.get(schema)?.id as string | undefined) : undefined;
    if (schema && id && !registry.has(schema)) registry.add(schema, { id });
  };
  for (const spec of specs) [spec.params, spec.query, spec.body, spec.success.schema].forEach(visit);
  // ...and the named schemas inside them.
  for (const spec of specs) {
    for (const schema of [spec.params, spec.query, spec.body, spec.success.schema]) {
      if (!schema) continue;
      const { $defs } = z.toJSONSchema(schema, { unrepresentable: 'any' }) as { $defs?: Record<string, unknown> };
      for (const nestedId of Object.keys($defs ?? {})) {
        const nested = z.globalRegistry._idmap.get(nestedId);
        if (nested && !registry.has(nested)) registry.add(nested, { id: nestedId });
      }
    }
  }
  return registry;
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id as string | undefined;
  if (id) return { $ref: componentUri(id) };
  const { $schema: _dialect, $defs, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', override }) as JsonSchema;
  // Named schemas nested in an inline one are components too (collected by namedSchemas).
  if ($defs) return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
  return rest;
}

/** Path and query parameters, one entry per property of the object schema. */
function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', override }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

const errorBody = { content: { 'application/json': { schema: { $ref: componentUri('Error') } } } };

function errorResponses(spec: AnyRouteSpec): Record<string, JsonSchema> {
  const codes = new Set<ErrorCode>(spec.errors ?? []);
  if (spec.security) ['unauthorized', 'forbidden'].forEach((code) => codes.add(code as ErrorCode));
  if (spec.body) ['invalid_body', 'validation_failed', 'payload_too_large', 'unsupported_media_type'].forEach((code) => codes.add(code as ErrorCode));
  else if (spec.params || spec.query) codes.add('validation_failed');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(errorRegistry[code].status, [...(byStatus.get(errorRegistry[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus.entries()].sort(([a], [b]) => a - b).map(([status, list]) => [String(status), { description: list.sort().join(', '), 'x-error-codes': list, ...errorBody }]),
  );
}

function operation(spec: AnyRouteSpec, options: DocumentOptions): JsonSchema {
  const success = spec.success;
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.tag ? { tags: [spec.tag] } : {}),
    security: spec.security ? options.securityRequirements(spec.security.scheme, spec.security.scopes) : [],
    ...(spec.params || spec.query ? { parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')] } : {}),
    // A body schema that takes `undefined` (`.optional()`) makes the body optional.
    ...(spec.body ? { requestBody: { required: !spec.body.safeParse(undefined).success, content: { 'application/json': { schema: toSchema(spec.body, 'input') } } } } : {}),
    responses: {
      [String(success.status)]: {
        description: success.description,
        ...(success.headers ? { headers: Object.fromEntries(Object.entries(success.headers).map(([name, header]) => [name, { ...header, schema: { type: 'string' } }])) } : {}),
        ...(success.schema ? { content: { 'application/json': { schema: toSchema(success.schema, 'output') } } } : {}),
      },
      ...errorResponses(spec),
    },
  };
}

/** `/api/users/:id` → `/api/users/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function openApiDocument(specs: readonly AnyRouteSpec[], options: DocumentOptions): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of specs) {
    const path = openApiPath(spec.path);
    paths[path] = { ...paths[path], [spec.method]: operation(spec, options) };
  }
  const components = z.toJSONSchema(namedSchemas(specs), { io: 'output', unrepresentable: 'any', override, uri: componentUri }) as { schemas: Record<string, JsonSchema> };
  const schemas: Record<string, JsonSchema> = {};
  for (const [id, { $schema: _dialect, $id: _id, ...schema }] of Object.entries(components.schemas)) schemas[id] = schema;
  schemas.Error = {
    type: 'object',
    required: ['error', 'error_description', 'request_id'],
    properties: {
      error: { type: 'string', enum: [...errorCodes] },
      error_description: { type: 'string' },
      request_id: { type: 'string' },
      issues: {
        description: 'validation_failed: what was wrong and where (`path` is dotted; empty for the body itself, e.g. an unknown field).',
        type: 'array',
        items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
      },
      reason: {
        description: 'invalid_code: why the link or code cannot be used.',
        type: 'string',
        enum: ['invalid', 'expired', 'used', 'address_changed'],
      },
      violations: {
        description: 'password_rejected: every rule the new password breaks.',
        type: 'array',
        items: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: '1', description: options.description },
    servers: [{ url: options.issuer }],
    paths,
    components: { securitySchemes: options.securitySchemes, schemas },
  };
}
