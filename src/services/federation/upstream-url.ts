// Where Keyhold may send a person's browser and its own requests upstream: https only; a
// loopback upstream (a test or a local IdP) only when ALLOW_LOOPBACK_REQUESTS is on. An
// http endpoint elsewhere would put codes and tokens on the wire in clear.
import { KeyholdError } from '#src/errors.ts';

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** The URL when it is acceptable as an upstream endpoint; else invalid_connector naming `field`. */
export function assertUpstreamUrl(value: unknown, field: string, options: { allowLoopback: boolean }): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new KeyholdError('invalid_connector', { key: 'error.invalid_connector.url', params: { field } });
  }
  const loopback = isLoopbackHost(url.hostname);
  if (loopback && !options.allowLoopback) throw new KeyholdError('invalid_connector', { key: 'error.invalid_connector.loopback', params: { field } });
  if (url.protocol !== 'https:' && !(loopback && url.protocol === 'http:')) throw new KeyholdError('invalid_connector', { key: 'error.invalid_connector.https', params: { field } });
  if (url.username || url.password || url.hash) throw new KeyholdError('invalid_connector', { key: 'error.invalid_connector.url', params: { field } });
  // As given: an issuer is compared with the `iss` of ID tokens character for character.
  return String(value);
}
