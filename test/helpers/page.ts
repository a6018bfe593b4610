// What a person reads on a Keyhold page: the heading, the messages, the form fields and the
// links, as decoded text (so a test compares with what the browser shows, not with escapes).
import { decodeEntities, parseForms, type Page } from './browser.ts';

const first = (page: Page, pattern: RegExp): string | undefined => {
  const match = pattern.exec(page.body)?.[1];
  return match === undefined ? undefined : decodeEntities(match);
};

export const title = (page: Page) => first(page, /<title>([^<]*)<\/title>/);
export const h1 = (page: Page) => first(page, /<h1[^>]*>([^<]*)<\/h1>/);
export const lead = (page: Page) => first(page, /<p class="lead">([^<]*)<\/p>/);
/** The single message of an error or a refused step (`<p class="alert">`). */
export const alertText = (page: Page) => first(page, /<p class="alert" role="alert">([^<]*)<\/p>/);
/** A confirmation shown above a form (`<p class="notice">`), e.g. "a new code was sent". */
export const notice = (page: Page) => first(page, /<p class="notice" role="status">([^<]*)<\/p>/);
/** The messages of a refused form, one per list item. */
export const alerts = (page: Page) => [...page.body.matchAll(/<li>([^<]*)<\/li>/g)].map((match) => decodeEntities(match[1]!));

/** The text of each item of `<ul class="{listClass}">`, markup removed. */
export function listItems(page: Page, listClass: string): string[] {
  const list = new RegExp(`<ul class="${listClass}">([\\s\\S]*?)</ul>`).exec(page.body)?.[1] ?? '';
  return [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((match) => decodeEntities(match[1]!.replace(/<[^>]+>/g, '').trim()));
}

/** The sorted field names of the first form whose action matches. */
export const fieldNames = (page: Page, action: RegExp) =>
  parseForms(page.body, page.url)
    .find((form) => action.test(form.action))
    ?.fields.map((field) => field.name)
    .sort();

/** The value of one field of the first form whose action matches. */
export const fieldValue = (page: Page, action: RegExp, name: string) =>
  parseForms(page.body, page.url)
    .find((form) => action.test(form.action))
    ?.fields.find((field) => field.name === name)?.value;

/** Link text → decoded href, for every plain `<a href>` of the page. */
export function links(page: Page): Record<string, string> {
  return Object.fromEntries([...page.body.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((match) => [decodeEntities(match[2]!), decodeEntities(match[1]!)]));
}
