// Traffic for outage tests: a few workers each repeating one kind of request (a whole
// sign-in, a token request, discovery…) until stopped, recording every status they get and
// every request that failed without one (a reset or refused connection). Bounded: each
// worker pauses between rounds, and the test stops the load itself.
import * as oidc from 'openid-client';
import { Browser, type Page } from './browser.ts';
import type { ExecutionContext } from 'ava';
import { atRedirectUri, authorizationRequest, basicAuth, REDIRECT_URI, type RegisteredClient } from './oidc.ts';

export interface Observation {
  worker: string;
  status: number;
  /** When it was answered (ms since the load started). */
  at: number;
  /** The error code of a JSON error body, when there is one. */
  error?: string;
}

/** A browser that reports every status it gets. */
export class RecordingBrowser extends Browser {
  constructor(private readonly observe: (status: number, page: Page) => void) {
    super();
  }
  override async request(url: string, init: Parameters<Browser['request']>[1] = {}): Promise<Page> {
    const page = await super.request(url, init);
    this.observe(page.status, page);
    return page;
  }
}

export type Step = (observe: (status: number, error?: string) => void) => Promise<void>;

export interface Load {
  readonly observations: Observation[];
  /** Requests that got no HTTP answer at all (connection reset or refused). */
  readonly dropped: Array<{ worker: string; message: string }>;
  /** Time since the load started, in ms. */
  now(): number;
  stop(): Promise<void>;
}

export function startLoad(workers: Record<string, Step>, pauseMs = 20): Load {
  const started = Date.now();
  const observations: Observation[] = [];
  const dropped: Array<{ worker: string; message: string }> = [];
  let running = true;
  const loops = Object.entries(workers).map(async ([worker, step]) => {
    while (running) {
      try {
        await step((status, error) => observations.push({ worker, status, at: Date.now() - started, ...(error ? { error } : {}) }));
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        // fetch's "fetch failed" carries the socket error; a flow helper's own complaint
        // (a page that was a 503 instead of a form) is not a dropped request.
        if (error instanceof TypeError && cause) dropped.push({ worker, message: `${cause.code ?? ''} ${cause.message ?? ''}` });
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  });
  return {
    observations,
    dropped,
    now: () => Date.now() - started,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json().catch(() => ({}))) as Record<string, unknown>;
}

/** One whole sign-in: authorization request, login form, consent, code exchange. */
export function signInStep(config: oidc.Configuration, client: RegisteredClient, credentials: { email: string; password: string }): Step {
  return async (observe) => {
    const browser = new RecordingBrowser((status, page) => observe(status, status >= 400 && status !== 503 ? `${new URL(page.url).pathname} ${/<code>([^<]*)<\/code>/.exec(page.body)?.[1] ?? page.body.slice(0, 200)}` : undefined));
    const request = await authorizationRequest(config);
    let page = await browser.get(request.url.toString(), atRedirectUri);
    if (page.body.includes('name="password"')) page = await browser.submit(page, /\/login$/, credentials, { stopAt: atRedirectUri });
    if (/action="[^"]*\/confirm"/.test(page.body)) page = await browser.submit(page, /\/confirm$/, {}, { stopAt: atRedirectUri });
    if (!atRedirectUri(page.url)) return;
    const code = new URL(page.url).searchParams.get('code');
    if (!code) return;
    const response = await fetch(`${config.serverMetadata().token_endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client), accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }),
    });
    observe(response.status, (await json(response)).error as string | undefined);
  };
}

/** A token request (client_secret_basic) with a fixed body. */
export function tokenStep(issuer: string, client: RegisteredClient, body: Record<string, string>): Step {
  return async (observe) => {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client), accept: 'application/json' },
      body: new URLSearchParams(body),
    });
    observe(response.status, (await json(response)).error as string | undefined);
  };
}

/** Keeps refreshing one grant, rotating its refresh token on each success. */
export function refreshStep(issuer: string, client: RegisteredClient, initial: string): Step {
  let refreshToken = initial;
  return async (observe) => {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client), accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    const body = await json(response);
    observe(response.status, body.error as string | undefined);
    if (response.status === 200 && typeof body.refresh_token === 'string') refreshToken = body.refresh_token;
  };
}

/** A GET of a path that needs neither Redis nor the database (discovery, JWKS, assets). */
export function getStep(url: string, headers: Record<string, string> = {}): Step {
  return async (observe) => {
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    observe(response.status);
  };
}

/** Settings for a server under outage load: no forced MFA, limits the load cannot reach. */
export const OUTAGE_ENV = { MFA_REQUIRED_TIERS: 'none', MFA_REQUIRED_ROLES: 'none', LOGIN_RATE_LIMIT: '10000', LOGIN_ACCOUNT_RATE_LIMIT: '10000' } as const;

/** Polls `check` every 100 ms until it holds (true) or `timeoutMs` passes (false). */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** The workers every outage test runs: sign-ins, token requests, a rolling refresh, and
 * the paths that need neither Redis nor the database (discovery, JWKS, a stylesheet). */
export function commonSteps(
  issuer: string,
  config: oidc.Configuration,
  client: RegisteredClient,
  user: { email: string; password: string },
  refreshToken: string,
): Record<string, Step> {
  return {
    signIn: signInStep(config, client, user),
    clientCredentials: tokenStep(issuer, client, { grant_type: 'client_credentials' }),
    refresh: refreshStep(issuer, client, refreshToken),
    discovery: getStep(`${issuer}/.well-known/openid-configuration`),
    jwks: getStep(`${issuer}/jwks`),
    stylesheet: getStep(`${issuer}/assets/keyhold.css`),
  };
}

/** What holds of every outage: no dropped connection, no 5xx but 503, 503s met and only
 * between the stop and shortly after the return, and the static paths never failed. */
export function assertOutageWindow(t: ExecutionContext, load: Load, downAt: number, recoveredAt: number): void {
  t.deepEqual(load.dropped, []);
  t.deepEqual(load.observations.filter((o) => o.status >= 500 && o.status !== 503), []);
  t.true(load.observations.some((o) => o.status === 503), 'the load met the outage');
  t.deepEqual(load.observations.filter((o) => o.status === 503 && (o.at < downAt - 100 || o.at > recoveredAt + 1000)), []);
  for (const worker of ['discovery', 'jwks', 'stylesheet']) {
    t.deepEqual(load.observations.filter((o) => o.worker === worker && o.status !== 200), [], worker);
  }
}
