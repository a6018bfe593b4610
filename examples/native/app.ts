// A native (desktop or command-line) app signing in with Keyhold, as RFC 8252 says: the
// system browser, not an embedded web view; a loopback redirect (http://127.0.0.1 on a port
// chosen now, which Keyhold accepts for any port of a native client's loopback redirect
// URI); authorization code with PKCE and no client secret. openid-client does the protocol.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';

export interface NativeSignIn {
  /** Where to send the system browser. */
  authorizationUrl: URL;
  /** Resolves once the browser has come back and the code is exchanged. */
  tokens: Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers>;
}

// #region native-sign-in
export async function signIn(issuer: string, clientId: string): Promise<NativeSignIn> {
  const issuerUrl = new URL(issuer);
  // Plain http only for a Keyhold on this machine (development): openid-client refuses it
  // unless told, and must keep refusing it for anything else.
  const local = issuerUrl.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(issuerUrl.hostname);
  const config = await client.discovery(issuerUrl, clientId, undefined, client.None(), { execute: local ? [client.allowInsecureRequests] : [] });

  // The loopback redirect: a one-shot HTTP server on 127.0.0.1, on a free port.
  const loopback = createServer();
  await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(loopback.address() as AddressInfo).port}/callback`;

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });

  const tokens = new Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers>((resolve, reject) => {
    loopback.on('request', (request, response) => {
      const callbackUrl = new URL(request.url ?? '/', redirectUri);
      if (callbackUrl.pathname !== '/callback') return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('Signed in. You can close this tab and return to the app.');
      loopback.close();
      client.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: verifier, expectedState: state }).then(resolve, reject);
    });
  });
  return { authorizationUrl, tokens };
}
// #endregion native-sign-in

/** The user's profile from userinfo: the access token above is opaque (no `resource`) and valid there. */
export async function profile(issuer: string, clientId: string, accessToken: string, subject: string): Promise<client.UserInfoResponse> {
  const issuerUrl = new URL(issuer);
  const local = issuerUrl.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(issuerUrl.hostname);
  const config = await client.discovery(issuerUrl, clientId, undefined, client.None(), { execute: local ? [client.allowInsecureRequests] : [] });
  return client.fetchUserInfo(config, accessToken, subject);
}
