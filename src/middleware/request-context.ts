// Request id (an incoming X-Request-Id is kept when it is well-formed, otherwise one is
// generated) and one access log line per request. The log line names the path without the
// query string, so codes, tokens and hints in URLs never reach the log.
import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';

const wellFormedRequestId = /^[\w.:-]{1,128}$/;

export function requestContext(logger: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = wellFormedRequestId.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    // The request's logger (its lines carry the request id) is made when something logs:
    // a child logger costs more than a token request's own work, and most requests log
    // nothing below the access line, which is skipped below the info level.
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      enumerable: true,
      configurable: true,
      get: () => (log ??= logger.child({ requestId })),
      set: (value: Logger) => (log = value),
    });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      if (ctx.path !== '/healthz' && ctx.path !== '/readyz' && logger.isLevelEnabled('info')) {
        const durationMs = Math.round((performance.now() - started) * 10) / 10;
        ctx.state.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, durationMs }, 'request');
      }
    }
  };
}

/** Where a request came from, for the audit and the session list: its address, user agent and request id. */
export function requestOrigin(ctx: Pick<Context, 'ip' | 'get' | 'state'>): { ip: string | null; userAgent: string | null; requestId: string | null } {
  return { ip: ctx.ip ?? null, userAgent: ctx.get('user-agent') || null, requestId: typeof ctx.state.requestId === 'string' ? ctx.state.requestId : null };
}
