// Server-rendered pages. nunjucks with autoescape on: every interpolated value is HTML-escaped
// unless a template marks it safe (the engine-built logout form, the QR code, and tb()'s
// output, which escapes its parts itself).
import path from 'node:path';
import nunjucks from 'nunjucks';
import { rootDirectory } from '#src/paths.ts';
import { isMessageKey, message, resolveLanguage, type MessageParams } from '#src/messages/index.ts';
import { currentBrand, currentLocales } from '#src/presentation/context.ts';

const viewsDirectory = path.join(rootDirectory, 'views');

export const assetsDirectory = path.join(rootDirectory, 'views', 'assets');

const environment = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDirectory, { noCache: false }), {
  autoescape: true,
  throwOnUndefined: false,
});

function text(key: string, params: MessageParams = {}): string {
  // A template naming a key the catalogue lacks is a bug that should show, not crash a page.
  return isMessageKey(key) ? message(key, params) : key;
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** A catalogue text with its placeholders' values in <strong>; text and values are escaped here. */
function textWithStrongValues(key: string, params: MessageParams = {}): nunjucks.runtime.SafeString {
  const template = isMessageKey(key) ? message(key, Object.fromEntries(Object.keys(params).map((name) => [name, `{${name}}`]))) : key;
  const html = escapeHtml(template).replace(/\{(\w+)\}/g, (placeholder: string, name: string) =>
    Object.hasOwn(params, name) ? `<strong>${escapeHtml(String(params[name]))}</strong>` : placeholder,
  );
  return new nunjucks.runtime.SafeString(html);
}

/**
 * Renders a view in the current request's language and brand: every view gets `t(key,
 * params)` (a catalogue text), `tb(key, params)` (the same with its values in bold),
 * `brand` and `lang`.
 */
export function renderView(name: string, context: Record<string, unknown>): string {
  return environment.render(`${name}.njk`, {
    brand: currentBrand(),
    lang: resolveLanguage(currentLocales()),
    t: text,
    tb: textWithStrongValues,
    ...context,
  });
}
