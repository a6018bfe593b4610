// The engine guards its outgoing requests (back-channel logout) against special-use
// addresses. Loopback is let through only when configured (development, tests): the
// engine's dispatcher, which does the guarding, is dropped for those requests alone.
import type { Configuration } from 'oidc-provider';

function isLoopbackUrl(url: string | URL): boolean {
  const { hostname } = new URL(url);
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

export function outgoingFetch(options: { allowLoopback: boolean }): NonNullable<Configuration['fetch']> {
  return (url, init) => {
    if (options.allowLoopback && !(url instanceof Request) && isLoopbackUrl(url)) {
      const { dispatcher: _dispatcher, ...rest } = init as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    }
    return globalThis.fetch(url, init);
  };
}
