// The message catalogues by language. English is complete and the fallback; another
// language is a file with the same keys, added here.
import { en, type Catalogue, type MessageKey } from '#src/messages/en.ts';

const catalogues: Record<string, Catalogue> = { en };

export type { MessageKey };

/** Values for a message's `{name}` placeholders. */
export type MessageParams = Readonly<Record<string, string | number>>;

/** Fills `{name}` placeholders; one without a value stays as written, so a gap is visible. */
export function formatMessage(text: string, params: MessageParams = {}): string {
  return text.replace(/\{(\w+)\}/g, (placeholder, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : placeholder));
}

/** The text of a key, with its placeholders filled, in the first supported language of `locales` (BCP 47 tags), else English. */
export function message(key: MessageKey, params: MessageParams = {}, locales: readonly string[] = []): string {
  for (const locale of locales) {
    const catalogue = catalogues[locale.toLowerCase()] ?? catalogues[locale.toLowerCase().split('-')[0]!];
    if (catalogue) return formatMessage(catalogue[key], params);
  }
  return formatMessage(en[key], params);
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}
