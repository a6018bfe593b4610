// Runs the example API: ISSUER and AUDIENCE say whose tokens for which API it accepts.
//   ISSUER=http://localhost:3000 AUDIENCE=https://orders.example.com PORT=4000 \
//     npx tsx examples/api/main.ts
// CORS_ORIGIN lets one browser app call it (the SPA example: http://localhost:5173).
// It prints one JSON line with its URL once it listens, and stops cleanly on SIGTERM/SIGINT.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOrdersApi } from './app.ts';

const { ISSUER, AUDIENCE, PORT = '4000', HOST = '127.0.0.1', CORS_ORIGIN } = process.env;
if (!ISSUER || !AUDIENCE) {
  console.error('examples/api: set ISSUER (Keyhold) and AUDIENCE (this API\'s resource identifier)');
  process.exit(1);
}

const server = createServer(createOrdersApi({ issuer: ISSUER, audience: AUDIENCE, corsOrigin: CORS_ORIGIN }).callback());
server.listen(Number(PORT), HOST, () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ listening: `http://${HOST}:${port}` }));
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
