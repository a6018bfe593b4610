// Server-rendered pages. nunjucks with autoescape on: every interpolated value is HTML-escaped
// unless a template marks it safe, which only the engine-built logout form does.
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';

const viewsDirectory = fileURLToPath(new URL('../views', import.meta.url));

export const assetsDirectory = fileURLToPath(new URL('../views/assets', import.meta.url));

const environment = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDirectory, { noCache: false }), {
  autoescape: true,
  throwOnUndefined: false,
});

export function renderView(name: string, context: Record<string, unknown>): string {
  return environment.render(`${name}.njk`, context);
}
