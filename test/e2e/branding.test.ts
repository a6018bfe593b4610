// The operator's brand and the reader's language over HTTP: BRAND_* settings on every page
// and mail with no "Keyhold" left, a strict CSP that admits exactly the logos shown, page
// titles without the name twice, ui_locales and Accept-Language choosing German (kept through
// the sign-in, mails included), unknown languages answered in English, and the refusals:
// bad settings, a non-https client logo, markup in ui_locales.
import test from 'ava';
import * as oidc from 'openid-client';
import { ConfigError, loadConfig } from '#src/config.ts';
import { Browser } from '../helpers/browser.ts';
import { startServerWithMailbox, type Mailbox } from '../helpers/mailbox.ts';
import { atRedirectUri, authorize, createUser, discover, openAuthorization, registerClient } from '../helpers/oidc.ts';
import type { TestServer } from '../helpers/server.ts';
import { alertText, h1, links, title } from '../helpers/page.ts';

const BRAND = {
  BRAND_NAME: 'Acme Cloud',
  BRAND_LOGO_URL: 'https://cdn.acme.example/brand/logo.svg',
  BRAND_PRIMARY_COLOR: '#0b6e4f',
  BRAND_SUPPORT_URL: 'https://acme.example/help',
  BRAND_PRIVACY_URL: 'https://acme.example/privacy',
  BRAND_TERMS_URL: 'https://acme.example/terms',
};

let server: TestServer;
let mailbox: Mailbox;
let config: oidc.Configuration;
let stop: (() => Promise<void>) | undefined;

test.before(async () => {
  ({ server, mailbox, config, stop } = await startServerWithMailbox({ ...BRAND, MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none', LOGIN_RATE_LIMIT: '1000' }));
});
test.after.always(async () => {
  await stop?.();
});

const lang = (body: string) => /<html lang="([^"]+)"/.exec(body)?.[1];
const visibleText = (body: string) => body.replace(/<[^>]+>/g, ' ');

test('every page shows the brand: name, logo, colour sheet, favicon and links; "Keyhold" appears nowhere', async (t) => {
  const flow = await openAuthorization(config);
  const login = flow.page;
  t.is(title(login), 'Sign in · Acme Cloud');
  t.true(login.body.includes('<img class="brand-logo" src="https://cdn.acme.example/brand/logo.svg" alt="Acme Cloud">'));
  t.true(login.body.includes('<link rel="stylesheet" href="/assets/brand.css">'));
  t.true(login.body.includes('<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">'));
  t.is(links(login).Help, 'https://acme.example/help');
  t.is(links(login).Privacy, 'https://acme.example/privacy');
  t.is(links(login).Terms, 'https://acme.example/terms');

  // Signed in (another browser), for the logout confirmation and the account pages.
  const user = await createUser(server);
  const signedIn = (await authorize(config, user)).browser;
  const pages = [
    login,
    await flow.browser.get(new URL(links(login)['Create account']!, login.url).toString()),
    await flow.browser.get(new URL(links(login)['Forgot password?']!, login.url).toString()),
    await flow.browser.get(`${server.issuer}/`),
    await signedIn.get(`${server.issuer}/session/end`),
    await flow.browser.get(`${server.issuer}/interaction/no-such-interaction`),
    await signedIn.get(`${server.issuer}/account/password`),
    await signedIn.get(`${server.issuer}/account/security`),
  ];
  for (const page of pages) {
    t.false(/keyhold/i.test(visibleText(page.body)), `"Keyhold" on ${page.url}`);
    t.true(page.body.includes('Acme Cloud'), `no brand on ${page.url}`);
  }
  // The logout page names the brand where it used to say "of Keyhold".
  t.regex(visibleText(pages[4]!.body), /sign out of Acme Cloud\?/);

  // The colour arrives in a style sheet of Keyhold's own, the favicon in the same colour.
  const css = await fetch(`${server.issuer}/assets/brand.css`);
  t.is(css.headers.get('content-type'), 'text/css; charset=utf-8');
  t.regex(await css.text(), /--accent: #0b6e4f;/);
  const favicon = await fetch(`${server.issuer}/assets/favicon.svg`);
  t.is(favicon.headers.get('content-type'), 'image/svg+xml');
  t.regex(await favicon.text(), /fill="#0b6e4f"/);
  const legacyIcon = await fetch(`${server.issuer}/favicon.ico`, { redirect: 'manual' });
  t.is(legacyIcon.status, 301);
  t.is(legacyIcon.headers.get('location'), '/assets/favicon.svg');
});

test('the CSP stays strict: no inline styles or scripts, and img-src names exactly the logo', async (t) => {
  const { page } = await openAuthorization(config);
  const csp = page.headers.get('content-security-policy')!;
  t.false(csp.includes('unsafe-inline'));
  t.regex(csp, /style-src 'self';/);
  t.regex(csp, /img-src 'self' data: https:\/\/cdn\.acme\.example\/brand\/logo\.svg;/);
  t.false(/ style=/.test(page.body), 'an inline style attribute');
  t.false(/<style/.test(page.body), 'an inline style element');
});

test('a page whose title is the brand does not repeat it', async (t) => {
  const home = await new Browser().get(`${server.issuer}/`);
  t.is(title(home), 'Acme Cloud');
});

test('the consent page shows the client\'s own name and https logo, and its CSP admits that one image only', async (t) => {
  const client = await registerClient(server, { client_name: 'Photo Printer', logo_uri: 'https://printer.example/static/logo.png' });
  const user = await createUser(server);
  const flow = await openAuthorization(await discover(server, client));
  const consent = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
  t.is(h1(consent), 'Allow access?');
  t.true(consent.body.includes('<img src="https://printer.example/static/logo.png" alt="Photo Printer">'));
  t.regex(consent.body, /<strong>Photo Printer<\/strong> asks for access to your account/);
  const csp = consent.headers.get('content-security-policy')!;
  t.regex(csp, /img-src 'self' data: https:\/\/cdn\.acme\.example\/brand\/logo\.svg https:\/\/printer\.example\/static\/logo\.png;/);
  t.false(csp.includes('unsafe-inline'));
});

test('attacker: a client logo that is not https, or that would widen the CSP, is refused at registration', async (t) => {
  for (const logo_uri of ['http://printer.example/logo.png', 'https://printer.example/a;script-src *', "https://printer.example/x'y.png", 'javascript:alert(1)', 'https://user:pw@printer.example/logo.png', 'https://*/logo.png', 'https://*.printer.example/logo.png', 'https://printer.example,img-src/logo.png', 'https://printer.example;x/logo.png']) {
    const error = await t.throwsAsync(registerClient(server, { logo_uri }), undefined, logo_uri);
    t.regex(String((error as { code?: string }).code ?? error?.message), /invalid_client_metadata|logo_uri|redirect/, logo_uri);
  }
});

test('ui_locales=de gives the German sign-in page; a wrong password is refused in German; the recovery page it links to stays German', async (t) => {
  const flow = await openAuthorization(config, { ui_locales: 'de' });
  t.is(lang(flow.page.body), 'de');
  t.is(h1(flow.page), 'Anmelden');
  t.is(title(flow.page), 'Anmelden · Acme Cloud');
  t.true(flow.page.body.includes('<label for="email">E-Mail</label>'));
  t.true(flow.page.body.includes('<label for="password">Passwort</label>'));
  t.true(flow.page.body.includes('Passwort vergessen?'));

  const user = await createUser(server);
  const refused = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: 'not the password at all' });
  t.is(alertText(refused), 'E-Mail-Adresse oder Passwort ist falsch.');

  // The language was asked for by the sign-in, not by the browser: it holds for the pages
  // that sign-in leads to, and for the mail they cause.
  const recovery = await flow.browser.get(new URL(links(flow.page)['Passwort vergessen?']!, flow.page.url).toString());
  t.is(h1(recovery), 'Passwort zurücksetzen');
  await flow.browser.submit(recovery, /\/recovery$/, { email: user.email });
  const mail = await mailbox.next(user.email);
  t.is(mail.subject, 'Ihr Acme Cloud-Passwort zurücksetzen');
  t.regex(mail.text, /^Hallo Test User,/);
  t.regex(mail.text, /Neues Passwort wählen:/);
  t.regex(mail.html, /<html lang="de">/);
  t.false(/keyhold/i.test(mail.text), 'Keyhold in the mail text');

  // The reset page the mail links to is German too (same browser), with the account as a
  // hidden username for password managers.
  const reset = await flow.browser.get(mail.links.find((link) => link.includes('/recovery/reset'))!);
  t.is(h1(reset), 'Neues Passwort wählen');
  t.true(reset.body.includes(`<input type="text" value="${user.email}" autocomplete="username" hidden readonly>`));
});

test('discovery lists the page languages', async (t) => {
  const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { ui_locales_supported?: string[] };
  t.deepEqual(metadata.ui_locales_supported, ['en', 'de']);
});

test('Accept-Language: de-DE gives the German sign-in page; the explicit ui_locales=en wins over it', async (t) => {
  const german = await openAuthorization(config, {}, new Browser({ 'accept-language': 'fr-CH, de-DE;q=0.9, en;q=0.5' }));
  t.is(lang(german.page.body), 'de');
  t.is(h1(german.page), 'Anmelden');

  const english = await openAuthorization(config, { ui_locales: 'en' }, new Browser({ 'accept-language': 'de-DE' }));
  t.is(lang(english.page.body), 'en');
  t.is(h1(english.page), 'Sign in');
});

test('an unknown language gets English, and a later sign-in without ui_locales forgets an earlier German one', async (t) => {
  const unknown = await openAuthorization(config, { ui_locales: 'xx-YY tlh' }, new Browser({ 'accept-language': 'zz' }));
  t.is(lang(unknown.page.body), 'en');
  t.is(h1(unknown.page), 'Sign in');

  const browser = new Browser();
  t.is(h1((await openAuthorization(config, { ui_locales: 'de' }, browser)).page), 'Anmelden');
  t.is(h1((await openAuthorization(config, {}, browser)).page), 'Sign in');
});

test('attacker: markup and oversized values in ui_locales and Accept-Language change nothing and are never echoed', async (t) => {
  const flow = await openAuthorization(config, { ui_locales: 'de"><script>alert(1)</script>' }, new Browser({ 'accept-language': `${'x'.repeat(5000)},de;q=abc` }));
  t.not(flow.page.status, 500);
  t.false(flow.page.body.includes('<script>alert(1)'));
  if (flow.page.status === 200) t.is(lang(flow.page.body), 'en');
});

test('mails carry the brand: subject, greeting, button colour, footer links; English for an English page', async (t) => {
  const user = await createUser(server);
  const flow = await openAuthorization(config);
  const recovery = await flow.browser.get(new URL(links(flow.page)['Forgot password?']!, flow.page.url).toString());
  await flow.browser.submit(recovery, /\/recovery$/, { email: user.email });
  const mail = await mailbox.next(user.email);
  t.is(mail.subject, 'Reset your Acme Cloud password');
  t.deepEqual(mail.parsed.from?.value.map((sender) => sender.name), ['Acme Cloud']);
  t.regex(mail.text, /your Acme Cloud account/);
  t.false(/keyhold/i.test(mail.text + mail.html.replace(/<[^>]+>/g, '')), 'Keyhold in the mail');
  t.regex(mail.html, /background:#0b6e4f/);
  t.true(mail.html.includes('<img src="https://cdn.acme.example/brand/logo.svg" alt="Acme Cloud"'));
  t.true(mail.html.includes('href="https://acme.example/privacy"'));
  t.regex(mail.text, /Privacy: https:\/\/acme\.example\/privacy/);
});

test('bad brand settings stop start-up with one line naming the key', (t) => {
  const base = { NODE_ENV: 'test', KEYHOLD_SECRET: 'x'.repeat(40) };
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ BRAND_PRIMARY_COLOR: 'red' }, /BRAND_PRIMARY_COLOR: must be a CSS hex colour/],
    [{ BRAND_PRIMARY_COLOR: '#123;background:url(x)' }, /BRAND_PRIMARY_COLOR/],
    [{ BRAND_LOGO_URL: 'http://cdn.acme.example/logo.svg' }, /BRAND_LOGO_URL: must be an https URL/],
    [{ BRAND_SUPPORT_URL: 'javascript:alert(1)' }, /BRAND_SUPPORT_URL/],
    [{ BRAND_TERMS_URL: "https://acme.example/terms';x" }, /BRAND_TERMS_URL/],
    [{ BRAND_NAME: 'Acme\nBcc: victim@example.test' }, /BRAND_NAME: must be one line/],
  ];
  for (const [env, message] of refused) {
    const error = t.throws(() => loadConfig({ ...base, ...env }), { instanceOf: ConfigError });
    t.regex(error!.message, message);
  }
  const local = loadConfig({ ...base, BRAND_LOGO_URL: 'http://localhost:8080/logo.png', BRAND_PRIMARY_COLOR: '#ABC' });
  t.is(local.BRAND_LOGO_URL, 'http://localhost:8080/logo.png');
  t.is(loadConfig(base).BRAND_NAME, 'Keyhold');
});
