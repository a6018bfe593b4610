// A minimal browser for driving Keyhold's HTML forms over real HTTP: a cookie jar, manual
// redirects, and reading forms out of the returned page.
export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

export interface FormField {
  name: string;
  value: string;
}

export interface ParsedForm {
  action: string;
  method: string;
  fields: FormField[];
  buttons: FormField[];
}

/** Undoes the HTML escaping the page templates apply (`&amp;`, `&lt;`, `&#39;`, …). */
export function decodeEntities(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
  return match ? decodeEntities(match[2] ?? match[3] ?? '') : undefined;
}

/** Every <form> of a page with its hidden and pre-filled inputs and its submit buttons. */
export function parseForms(html: string, baseUrl: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  const formPattern = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  for (const match of html.matchAll(formPattern)) {
    const [, formAttributes, inner] = match;
    const formTag = `<form ${formAttributes}>`;
    const id = attribute(formTag, 'id');
    const fields: FormField[] = [];
    for (const input of inner!.matchAll(/<input\b[^>]*>/gi)) {
      const name = attribute(input[0], 'name');
      if (name) fields.push({ name, value: attribute(input[0], 'value') ?? '' });
    }
    const buttons: FormField[] = [];
    const buttonSources = [...inner!.matchAll(/<button\b[^>]*>/gi)].map((b) => b[0]);
    if (id) buttonSources.push(...[...html.matchAll(/<button\b[^>]*>/gi)].map((b) => b[0]).filter((tag) => attribute(tag, 'form') === id));
    for (const tag of buttonSources) {
      const name = attribute(tag, 'name');
      if (name) buttons.push({ name, value: attribute(tag, 'value') ?? '' });
    }
    forms.push({
      action: new URL(attribute(formTag, 'action') ?? baseUrl, baseUrl).toString(),
      method: (attribute(formTag, 'method') ?? 'get').toLowerCase(),
      fields,
      buttons,
    });
  }
  return forms;
}

export class Browser {
  /** Headers sent with every request (e.g. Accept-Language), before a request's own. */
  constructor(private readonly defaultHeaders: Record<string, string> = {}) {}

  /** name → value of every cookie held, whatever its path (for inspection). */
  readonly cookies = new Map<string, string>();
  private readonly jar = new Map<string, { name: string; value: string; path: string }>();

  // RFC 6265 §5.1.4: a cookie goes only to its path and below, as a real browser sends it.
  private static pathMatches(requestPath: string, cookiePath: string): boolean {
    if (requestPath === cookiePath) return true;
    if (!requestPath.startsWith(cookiePath)) return false;
    return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
  }

  private storeCookies(target: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      const pathAttribute = attributes.map((attr) => attr.trim()).find((attr) => /^path=/i.test(attr));
      const defaultPath = target.pathname.lastIndexOf('/') > 0 ? target.pathname.slice(0, target.pathname.lastIndexOf('/')) : '/';
      const path = pathAttribute ? pathAttribute.slice(5) || '/' : defaultPath;
      const expired = attributes.some((attr) => /^\s*max-age=0\s*$/i.test(attr) || (/^\s*expires=/i.test(attr) && Date.parse(attr.split('=')[1]!) < Date.now()));
      const key = `${name}|${path}`;
      if (expired || value === '') this.jar.delete(key);
      else this.jar.set(key, { name, value, path });
    }
    this.cookies.clear();
    for (const entry of this.jar.values()) this.cookies.set(entry.name, entry.value);
  }

  private cookieHeader(target: URL): string {
    return [...this.jar.values()]
      .filter((entry) => Browser.pathMatches(target.pathname, entry.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((entry) => `${entry.name}=${entry.value}`)
      .join('; ');
  }

  async request(url: string, init: { method?: string; body?: string | URLSearchParams; headers?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url);
    const cookie = this.cookieHeader(target);
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      body: init.body,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), accept: 'text/html', ...this.defaultHeaders, ...init.headers },
    });
    this.storeCookies(target, response.headers);
    return { url, status: response.status, headers: response.headers, body: await response.text() };
  }

  /** Follows redirects on this origin set; stops at the first response that is not a redirect or leaves `stopAt`'s origin prefix. */
  async follow(page: Page, stopAt?: (url: string) => boolean): Promise<Page> {
    let current = page;
    for (let hops = 0; hops < 20; hops++) {
      const location = current.headers.get('location');
      if (current.status < 300 || current.status >= 400 || !location) return current;
      const next = new URL(location, current.url).toString();
      if (stopAt?.(next)) return { ...current, url: next };
      current = await this.request(next);
    }
    throw new Error('too many redirects');
  }

  async get(url: string, stopAt?: (url: string) => boolean): Promise<Page> {
    return this.follow(await this.request(url), stopAt);
  }

  /** Submits a form of `page` (the first whose action matches `actionPattern`), overriding fields. */
  async submit(page: Page, actionPattern: RegExp, values: Record<string, string> = {}, options: { button?: string; stopAt?: (url: string) => boolean; follow?: boolean } = {}): Promise<Page> {
    const form = parseForms(page.body, page.url).find((candidate) => actionPattern.test(candidate.action));
    if (!form) throw new Error(`no form matching ${actionPattern} on ${page.url} (status ${page.status}):\n${page.body.slice(0, 500)}`);
    const body = new URLSearchParams();
    for (const field of form.fields) if (!(field.name in values)) body.append(field.name, field.value);
    for (const [name, value] of Object.entries(values)) body.append(name, value);
    const button = options.button ? form.buttons.find((candidate) => candidate.name === options.button) : undefined;
    if (button) body.append(button.name, button.value);
    const response = await this.request(form.action, {
      method: form.method.toUpperCase(),
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    return options.follow === false ? response : this.follow(response, options.stopAt);
  }
}

/** A browser that sends its own User-Agent on every request (a device of its own). */
export class DeviceBrowser extends Browser {
  constructor(private readonly userAgent: string) {
    super();
  }

  override request(url: string, init: Parameters<Browser['request']>[1] = {}): Promise<Page> {
    return super.request(url, { ...init, headers: { 'user-agent': this.userAgent, ...init.headers } });
  }
}
