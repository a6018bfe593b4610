// Serves the SPA example: index.html, app.ts bundled by esbuild (oidc-client-ts included),
// and /config.js with the settings below. Open http://localhost:5173 after `npx keyhold init`.
//   ISSUER=http://localhost:3000 npx tsx examples/spa/serve.ts
// Settings: ISSUER (Keyhold), CLIENT_ID (demo-spa), API (the API's resource identifier,
// http://localhost:4000), API_URL (where the API answers, the same by default), PORT (5173).
// It prints one JSON line with its URL once it listens.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const { ISSUER, CLIENT_ID = 'demo-spa', API = 'http://localhost:4000', PORT = '5173', HOST = '127.0.0.1' } = process.env;
const API_URL = process.env.API_URL ?? API;
if (!ISSUER) {
  console.error('examples/spa: set ISSUER (Keyhold\'s URL, e.g. http://localhost:3000)');
  process.exit(1);
}

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const bundle = await build({ entryPoints: [here('app.ts')], bundle: true, write: false, format: 'iife', target: 'es2022', minify: true, logLevel: 'silent' });
const files: Record<string, { type: string; body: string | Uint8Array }> = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(here('index.html'), 'utf8') },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: bundle.outputFiles[0]!.contents },
  '/config.js': { type: 'text/javascript; charset=utf-8', body: `window.KEYHOLD_EXAMPLE = ${JSON.stringify({ issuer: ISSUER, clientId: CLIENT_ID, api: API, apiUrl: API_URL })};\n` },
};

const server = createServer((request, response) => {
  const file = files[new URL(request.url ?? '/', 'http://localhost').pathname];
  if (!file) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
});
server.listen(Number(PORT), HOST, () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ listening: `http://localhost:${port}` }));
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));
