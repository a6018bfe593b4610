// A browser app (SPA) signing in with Keyhold through oidc-client-ts: authorization code with
// PKCE, no client secret (a browser cannot keep one), everything found through discovery.
// The access token is asked for the API's resource (RFC 8707), so it is a JWT the API
// verifies offline; offline_access brings a refresh token (demo-spa is a first-party client).
// serve.ts bundles this file with esbuild and serves it with index.html.
import { UserManager, WebStorageStateStore, type User } from 'oidc-client-ts';

declare global {
  interface Window {
    /** Written by serve.ts into /config.js. */
    KEYHOLD_EXAMPLE: { issuer: string; clientId: string; api: string; apiUrl: string };
  }
}
const settings = window.KEYHOLD_EXAMPLE;
const status = document.querySelector<HTMLPreElement>('#status')!;

// #region spa-sign-in
const userManager = new UserManager({
  authority: settings.issuer, // e.g. http://localhost:3000; endpoints come from discovery
  client_id: settings.clientId, // demo-spa, from `npx keyhold init`
  redirect_uri: `${location.origin}/`,
  post_logout_redirect_uri: `${location.origin}/`,
  // `orders:read orders:write` are the API's scopes; the user's roles decide which are granted.
  scope: 'openid profile email offline_access orders:read orders:write',
  // The API's resource identifier: access tokens are JWTs for it. They are not valid at
  // userinfo, so the profile comes from the ID token (loadUserInfo stays false).
  resource: settings.api,
  userStore: new WebStorageStateStore({ store: window.sessionStorage }),
});

async function signIn() {
  await userManager.signinRedirect();
}

// Back from Keyhold with ?code=…&state=…: exchange the code (PKCE) for tokens.
async function handleCallback(): Promise<User | null> {
  const query = new URLSearchParams(location.search);
  if (!query.has('code') && !query.has('error')) return userManager.getUser();
  const user = await userManager.signinRedirectCallback();
  history.replaceState(null, '', location.pathname);
  return user;
}

// A new access token from the refresh token, without leaving the page.
async function refresh(): Promise<User | null> {
  return userManager.signinSilent();
}

async function callApi(user: User): Promise<unknown> {
  const response = await fetch(`${settings.apiUrl}/orders`, { headers: { authorization: `Bearer ${user.access_token}` } });
  return { status: response.status, body: await response.json() };
}

async function signOut() {
  // Ends the session at Keyhold too (RP-initiated logout), then comes back here.
  await userManager.signoutRedirect();
}
// #endregion spa-sign-in

function show(user: User | null, extra?: unknown) {
  status.textContent = user
    ? JSON.stringify({ signed_in: true, sub: user.profile.sub, scope: user.scope, expires_at: user.expires_at, has_refresh_token: Boolean(user.refresh_token), access_token: user.access_token, ...(extra ? { api: extra } : {}) }, null, 2)
    : JSON.stringify({ signed_in: false, ...(extra ? { api: extra } : {}) }, null, 2);
  document.body.dataset.state = user ? 'signed-in' : 'signed-out';
}

const run = (work: () => Promise<void>) => () => work().catch((error: unknown) => (status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`));
document.querySelector('#sign-in')!.addEventListener('click', run(signIn));
document.querySelector('#sign-out')!.addEventListener('click', run(signOut));
document.querySelector('#refresh')!.addEventListener('click', run(async () => show(await refresh())));
document.querySelector('#call-api')!.addEventListener('click', run(async () => {
  const user = await userManager.getUser();
  show(user, user ? await callApi(user) : 'sign in first');
}));
run(async () => show(await handleCallback()))();
