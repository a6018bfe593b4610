// Runs middleware in order as one (what Koa's app.use chain does), so that a branch of the
// app can be a chain of its own.
import type { Context, Middleware, Next } from 'koa';

/** A composed middleware keeps its parts visible (`chain`), e.g. to list the routes it serves. */
export type ComposedMiddleware = Middleware & { chain: readonly Middleware[] };

export function compose(chain: readonly Middleware[]): ComposedMiddleware {
  const composed = (ctx: Context, next: Next) => {
    const run = (index: number): Promise<void> => {
      const middleware = index < chain.length ? chain[index]! : next;
      return Promise.resolve(middleware(ctx, () => run(index + 1)));
    };
    return run(0);
  };
  return Object.assign(composed, { chain });
}
