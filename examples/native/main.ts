// Runs the native example: prints the URL to open in a browser (a real app would open the
// system browser itself), waits for the sign-in, then prints the user's profile as JSON.
//   npx keyhold client create --metadata '{"client_id":"demo-native","application_type":"native",
//     "token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1/callback"]}'
//   ISSUER=http://localhost:3000 CLIENT_ID=demo-native npx tsx examples/native/main.ts
import { profile, signIn } from './app.ts';

const { ISSUER, CLIENT_ID = 'demo-native' } = process.env;
if (!ISSUER) {
  console.error('examples/native: set ISSUER (Keyhold\'s URL, e.g. http://localhost:3000)');
  process.exit(1);
}

try {
  const { authorizationUrl, tokens } = await signIn(ISSUER, CLIENT_ID);
  console.log(JSON.stringify({ open: authorizationUrl.href }));
  const result = await tokens;
  const claims = result.claims()!;
  console.log(JSON.stringify({ sub: claims.sub, amr: claims.amr, profile: await profile(ISSUER, CLIENT_ID, result.access_token, claims.sub) }));
} catch (error) {
  console.error(`examples/native: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
