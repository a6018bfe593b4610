// What a person who just ran `npm start` in development needs next: where Keyhold is,
// where its mail goes, and how to get a first client. Not printed in production.
import path from 'node:path';
import type { Config } from '#src/config.ts';

export function startBanner(config: Config, listening: string, databaseKind: string, envFile?: string): string {
  const mail = config.SMTP_URL ? `SMTP (${new URL(config.SMTP_URL).host})` : `files in ${path.join(config.DATA_DIR, 'outbox')}/ (set SMTP_URL to send)`;
  const database = databaseKind === 'pglite' ? `embedded, in ${path.join(config.DATA_DIR, 'pglite')} (set DATABASE_URL for Postgres)` : 'Postgres';
  return [
    '',
    `  Keyhold is running (${config.NODE_ENV}${envFile ? `, settings from ${envFile} and the environment` : ''})`,
    `  Issuer      ${config.ISSUER}`,
    `  Discovery   ${config.ISSUER}/.well-known/openid-configuration`,
    `  Listening   ${listening}`,
    `  Database    ${database}`,
    `  Mail        ${mail}`,
    '',
    '  Next, in another terminal:',
    '    npx keyhold init                  a demo user, an SPA, an API and a service client',
    `    npx keyhold client create --metadata '{"client_name":"My app","redirect_uris":["http://localhost:5173/callback"],"token_endpoint_auth_method":"none"}'`,
    '    npx keyhold help                  every command',
    '',
    '',
  ].join('\n');
}
