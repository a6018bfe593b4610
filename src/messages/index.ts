// The message catalogues by language. English is complete and the fallback; another
// language is a file with the same keys, added here.
import { en, type Catalogue, type MessageKey } from '#src/messages/en.ts';

const catalogues: Record<string, Catalogue> = { en };

export type { MessageKey };

/** The text of a key in the first supported language of `locales` (BCP 47 tags), else English. */
export function message(key: MessageKey, locales: readonly string[] = []): string {
  for (const locale of locales) {
    const catalogue = catalogues[locale.toLowerCase()] ?? catalogues[locale.toLowerCase().split('-')[0]!];
    if (catalogue) return catalogue[key];
  }
  return en[key];
}
