// Server-rendered pages. nunjucks with autoescape on: every interpolated value is HTML-escaped
// unless a template marks it safe, which only the engine-built logout form does.
import path from 'node:path';
import nunjucks from 'nunjucks';
import { rootDirectory } from '#src/paths.ts';

const viewsDirectory = path.join(rootDirectory, 'views');

export const assetsDirectory = path.join(rootDirectory, 'views', 'assets');

const environment = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDirectory, { noCache: false }), {
  autoescape: true,
  throwOnUndefined: false,
});

export function renderView(name: string, context: Record<string, unknown>): string {
  return environment.render(`${name}.njk`, context);
}
