// What a relying party and a browser do: the authorization code flow through Keyhold's HTML
// login (and consent) pages, with openid-client for the protocol side.
import * as oidc from 'openid-client';
import { Browser } from '../test/helpers/browser.ts';
import { authorizationRequest } from '../test/helpers/oidc.ts';

export const REDIRECT_URI = 'https://app.bench.test/callback';
const atRedirectUri = (url: string) => url.startsWith('https://app.bench.test/');

export async function discover(issuer: string, clientId: string, clientSecret: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, { client_secret: clientSecret }, oidc.ClientSecretBasic(clientSecret), {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface CodeFlowResult {
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  /** Whether the consent page was shown (and confirmed). */
  consented: boolean;
}

/**
 * One sign-in from a fresh browser: authorization request, the login form posted with the
 * password (always: the browser has no session), consent when Keyhold asks for it, the
 * code at the redirect URI, and the code exchanged at the token endpoint.
 */
export async function passwordCodeFlow(config: oidc.Configuration, credentials: { email: string; password: string }, parameters: Record<string, string> = {}): Promise<CodeFlowResult> {
  const browser = new Browser();
  const { url, verifier, state, nonce } = await authorizationRequest(config, parameters, REDIRECT_URI);
  let page = await browser.get(url.toString(), atRedirectUri);
  if (!page.body.includes('name="password"')) throw new Error(`expected the login form (status ${page.status} at ${page.url}):\n${page.body.slice(0, 500)}`);
  page = await browser.submit(page, /\/login$/, { email: credentials.email, password: credentials.password }, { stopAt: atRedirectUri });
  let consented = false;
  if (/action="[^"]*\/confirm"/.test(page.body)) {
    page = await browser.submit(page, /\/confirm$/, {}, { stopAt: atRedirectUri });
    consented = true;
  }
  if (!atRedirectUri(page.url)) throw new Error(`flow did not reach the client (status ${page.status} at ${page.url}):\n${page.body.slice(0, 500)}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  return { tokens, consented };
}

export function basicAuthorization(clientId: string, clientSecret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part before base64.
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}
