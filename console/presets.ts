// Guided client presets: the RFC 7591 metadata each kind of application needs, and the
// snippet its developer pastes. The secret never goes into a snippet (an env variable does).
export type PresetName = 'spa' | 'native' | 'web' | 'service';

export const PRESETS: Record<PresetName, { label: string; help: string; redirects: boolean; metadata: Record<string, unknown> }> = {
  spa: {
    label: 'Single-page app',
    help: 'Runs in the browser: public client, code + PKCE, no secret.',
    redirects: true,
    metadata: { application_type: 'web', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
  },
  native: {
    label: 'Native or mobile app',
    help: 'Public client with a custom-scheme or loopback redirect, code + PKCE.',
    redirects: true,
    metadata: { application_type: 'native', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
  },
  web: {
    label: 'Server-side web app',
    help: 'Confidential client: keeps a secret on its server.',
    redirects: true,
    metadata: { application_type: 'web', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
  },
  service: {
    label: 'Service (machine to machine)',
    help: 'client_credentials only: no user, no redirect.',
    redirects: false,
    metadata: { token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
  },
};

/** The preset a stored client matches, for its snippet. */
export function presetOf(metadata: Record<string, unknown>): PresetName {
  const grants = (metadata.grant_types as string[] | undefined) ?? ['authorization_code'];
  if (!grants.includes('authorization_code') && grants.includes('client_credentials')) return 'service';
  if (metadata.token_endpoint_auth_method === 'none') return metadata.application_type === 'native' ? 'native' : 'spa';
  return 'web';
}

export function snippetFor(preset: PresetName, issuer: string, clientId: string, metadata: Record<string, unknown>): string {
  const redirect = (metadata.redirect_uris as string[] | undefined)?.[0] ?? '';
  const scope = typeof metadata.scope === 'string' ? metadata.scope : preset === 'service' ? '<API scopes>' : 'openid';
  switch (preset) {
    case 'spa':
      return [
        "import { UserManager } from 'oidc-client-ts';",
        '',
        `const auth = new UserManager({`,
        `  authority: '${issuer}',`,
        `  client_id: '${clientId}',`,
        `  redirect_uri: '${redirect}',`,
        `  scope: '${scope}',`,
        '});',
        'await auth.signinRedirect();',
      ].join('\n');
    case 'native':
      return [`issuer:        ${issuer}`, `client_id:     ${clientId}`, `redirect_uri:  ${redirect}`, `scope:         ${scope}`, 'PKCE:          S256 (required)', '', 'Use AppAuth (iOS/Android) with the discovery document at', `${issuer}/.well-known/openid-configuration`].join('\n');
    case 'web':
      return [
        "import * as client from 'openid-client';",
        '',
        `const config = await client.discovery(new URL('${issuer}'), '${clientId}', process.env.CLIENT_SECRET);`,
        `// redirect_uri: ${redirect}`,
      ].join('\n');
    case 'service':
      return [
        `TOKEN_ENDPOINT=$(curl -s ${issuer}/.well-known/openid-configuration | jq -r .token_endpoint)`,
        `curl -u "${clientId}:$CLIENT_SECRET" -d grant_type=client_credentials \\`,
        `  -d scope='${scope}' -d resource='<API identifier>' "$TOKEN_ENDPOINT"`,
      ].join('\n');
  }
}
