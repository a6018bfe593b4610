// The message catalogues by language. English is complete and the fallback; another
// language is a file with the same keys, added here. A key another catalogue leaves out
// (texts only developers and operators read) is answered in English.
import { de } from '#src/messages/de.ts';
import { en, type Catalogue, type MessageKey } from '#src/messages/en.ts';
import { currentBrand, currentLocales } from '#src/presentation/context.ts';

const catalogues: Record<string, Partial<Catalogue>> = { en, de };

export type { MessageKey };

/** The languages pages and mails can be shown in. */
export const supportedLanguages: readonly string[] = Object.keys(catalogues);

/** Values for a message's `{name}` placeholders. */
export type MessageParams = Readonly<Record<string, string | number>>;

/** Fills `{name}` placeholders; one without a value stays as written, so a gap is visible. */
export function formatMessage(text: string, params: MessageParams = {}): string {
  return text.replace(/\{(\w+)\}/g, (placeholder, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : placeholder));
}

/** The catalogue for one BCP 47 tag, by exact tag then language (`de-CH` → `de`); undefined when there is none. */
export function languageOf(locale: string): string | undefined {
  const tag = locale.toLowerCase();
  if (Object.hasOwn(catalogues, tag)) return tag;
  const language = tag.split('-')[0]!;
  return Object.hasOwn(catalogues, language) ? language : undefined;
}

/** The first of `locales` (BCP 47 tags) that has a catalogue; else English. */
export function resolveLanguage(locales: readonly string[]): string {
  for (const locale of locales) {
    const language = languageOf(locale);
    if (language) return language;
  }
  return 'en';
}

/**
 * The text of a key, with its placeholders filled, in the first supported language of
 * `locales` (the current request's languages by default), else English. `{brand}` is the
 * operator's BRAND_NAME unless the caller fills it.
 */
export function message(key: MessageKey, params: MessageParams = {}, locales: readonly string[] = currentLocales()): string {
  const text = catalogues[resolveLanguage(locales)]![key] ?? en[key];
  return formatMessage(text, { brand: currentBrand().name, ...params });
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}
