// Real Chromium (Debian's package) driven by playwright-core, with the DevTools virtual
// authenticator for WebAuthn: a platform authenticator with resident keys and user
// verification that always consents. Client redirects to app.example.test are caught and
// answered in the browser, so a test can read the code off the callback URL.
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
}

export interface AuthenticatorPage {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  /** Callback URLs the client's redirect_uri received. */
  callbacks: URL[];
}

/** Waits until the client's redirect_uri has been called `count` times in all; the last call. */
export async function callbackNumber(target: AuthenticatorPage, count: number, timeoutMs = 30_000): Promise<URL> {
  const deadline = Date.now() + timeoutMs;
  while (target.callbacks.length < count) {
    if (Date.now() > deadline) throw new Error(`no callback #${count} (at ${target.page.url()})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return target.callbacks[count - 1]!;
}

export async function pageWithAuthenticator(browser: Browser): Promise<AuthenticatorPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const callbacks: URL[] = [];
  // Seen as requests (a redirect the route below may not get to answer still shows here).
  context.on('request', (request) => {
    // Once per callback: a routed request may be reported again when it is answered.
    if (request.url().startsWith('https://app.example.test/') && callbacks.at(-1)?.toString() !== request.url()) callbacks.push(new URL(request.url()));
  });
  await context.route('https://app.example.test/**', (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback received' }));
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { context, page, cdp, authenticatorId, callbacks };
}
