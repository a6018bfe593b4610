// Who a response is for: the languages to answer in and the operator's brand. Set once per
// request by the presentation middleware and read wherever text is made (the message
// catalogue, the views, the mailer), so the many routes and engine hooks that produce text
// need not pass it along by hand. Outside a request (CLI, jobs) the defaults apply.
import { AsyncLocalStorage } from 'node:async_hooks';
import { defaultBrand, type Brand } from '#src/presentation/brand.ts';

export interface Presentation {
  /**
   * BCP 47 tags, most preferred first; the catalogue takes the first it has. An interaction
   * page puts the authorization request's ui_locales in front once it has loaded it.
   */
  locales: string[];
  /** The browser's own preference (Accept-Language), what remains when a sign-in asks for none. */
  browserLocales: readonly string[];
  brand: Brand;
}

const storage = new AsyncLocalStorage<Presentation>();

export function runWithPresentation<T>(presentation: Presentation, run: () => T): T {
  return storage.run(presentation, run);
}

export function currentPresentation(): Presentation | undefined {
  return storage.getStore();
}

export function currentLocales(): readonly string[] {
  return storage.getStore()?.locales ?? [];
}

export function currentBrand(): Brand {
  return storage.getStore()?.brand ?? defaultBrand;
}
