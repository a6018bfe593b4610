// The routes a running Keyhold app serves, read from its routers. The app branches (engine
// paths, pages: src/app.ts), and each branch keeps its parts in `chain`, so the walk goes
// through those too.
import type Koa from 'koa';

export interface ServedRoute {
  path: string;
  methods: string[];
}

type Part = { router?: { stack: Array<{ path: string; methods: string[] }> }; chain?: Part[] };

const flatten = (parts: Part[]): Part[] => parts.flatMap((part) => [part, ...flatten(part.chain ?? [])]);

/** Every router layer with a path and methods, in the order the app meets them. */
export function servedRoutes(app: Koa): ServedRoute[] {
  return flatten(app.middleware as Part[]).flatMap((part) => (part.router?.stack ?? []).filter((layer) => layer.methods.length > 0 && layer.path.startsWith('/')).map((layer) => ({ path: layer.path, methods: layer.methods })));
}
