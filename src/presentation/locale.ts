// Which languages a request asks for: the authorization request's ui_locales (kept for the
// rest of the sign-in in a cookie), then the browser's Accept-Language.

/** The tags of an Accept-Language header, most preferred first; `*` and q=0 are left out. */
export function parseAcceptLanguage(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...parameters] = part.trim().split(';');
      const qParameter = parameters.find((parameter) => /^\s*q=/i.test(parameter));
      // A malformed weight drops the entry rather than guessing it.
      const q = qParameter === undefined ? 1 : /^\s*q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/i.test(qParameter) ? Number(qParameter.split('=')[1]) : 0;
      return { tag: tag.trim(), q, index };
    })
    .filter((entry) => /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(entry.tag) && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map((entry) => entry.tag);
}

/** The tags of a ui_locales parameter (space-separated BCP 47 tags, most preferred first). */
export function parseUiLocales(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(' ')
    .slice(0, 20)
    .filter((tag) => /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(tag));
}
