// The operator's brand as pages and mails show it, built once from the settings.
import type { Config } from '#src/config.ts';

export interface Brand {
  name: string;
  logoUrl?: string;
  /** The CSP img-src source that admits exactly the logo. */
  logoCspSource?: string;
  /** A validated hex colour (#rgb or #rrggbb), safe to place in CSS and inline mail styles. */
  primaryColor?: string;
  supportUrl?: string;
  privacyUrl?: string;
  termsUrl?: string;
}

export type BrandSettings = Pick<Config, 'BRAND_NAME' | 'BRAND_LOGO_URL' | 'BRAND_PRIMARY_COLOR' | 'BRAND_SUPPORT_URL' | 'BRAND_PRIVACY_URL' | 'BRAND_TERMS_URL'>;

export const defaultBrand: Brand = Object.freeze({ name: 'Keyhold' });

export function brandFrom(settings: Partial<BrandSettings>): Brand {
  const logo = cspImage(settings.BRAND_LOGO_URL);
  return Object.freeze({
    name: settings.BRAND_NAME ?? defaultBrand.name,
    logoUrl: logo?.src,
    logoCspSource: logo?.cspSource,
    primaryColor: settings.BRAND_PRIMARY_COLOR,
    supportUrl: settings.BRAND_SUPPORT_URL,
    privacyUrl: settings.BRAND_PRIVACY_URL,
    termsUrl: settings.BRAND_TERMS_URL,
  });
}

/** The style sheet that carries the brand colour (served from Keyhold, so the CSP stays style-src 'self'). */
export function brandStylesheet(brand: Brand): string {
  if (!brand.primaryColor) return '/* no BRAND_PRIMARY_COLOR */\n';
  // The same colour in dark mode: an operator's colour is chosen for its buttons, and white
  // text on it must keep its contrast in both schemes.
  return `:root { --accent: ${brand.primaryColor}; }\n@media (prefers-color-scheme: dark) { :root { --accent: ${brand.primaryColor}; } }\n`;
}

/** The favicon: a key in the brand colour (SVG). */
export function brandFavicon(brand: Brand): string {
  const colour = brand.primaryColor ?? '#2f5bd3';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${colour}"/><circle cx="12" cy="16" r="5" fill="none" stroke="#fff" stroke-width="3"/><path d="M17 16h10M23 16v4M27 16v3" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/></svg>\n`;
}

/** An image as a page shows it: the address for `src` and the CSP source that admits exactly it. */
export interface CspImage {
  src: string;
  cspSource: string;
}

/**
 * An image address that may be admitted by the CSP's img-src: https (or http on localhost),
 * no credentials, and a path of only characters a CSP source cannot be split at. The CSP
 * names that path exactly (its query plays no part in CSP matching). Anything else is not
 * shown at all rather than widening the policy.
 */
export function cspImage(value: unknown, options: { httpsOnly?: boolean } = {}): CspImage | undefined {
  if (typeof value !== 'string' || value.length > 2000) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const localHttp = !options.httpsOnly && url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if ((url.protocol !== 'https:' && !localHttp) || url.username || url.password) return undefined;
  // The URL parser lets through hosts such as `*`, `*.example` or `a,b;c`: in a CSP source
  // the first two are wildcards (any site's image at that path) and `,` `;` split policies
  // and directives. Only a plain DNS name or an IP literal names exactly one host.
  if (!/^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/.test(url.hostname)) return undefined;
  if (!/^[A-Za-z0-9._~\-/%]*$/.test(url.pathname) || url.hash) return undefined;
  return { src: url.href, cspSource: `${url.origin}${url.pathname}` };
}
