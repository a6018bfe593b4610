// TOTP (RFC 6238) through otplib: 30-second steps, six digits, SHA-1 — what every
// authenticator app understands. A code is accepted one step either side of now (clock
// drift); the step it matched is returned so the caller can refuse it a second time.
import { generateSecret, generateURI, verify } from 'otplib';

const PERIOD_SECONDS = 30;

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function totpUri(secret: string, issuer: string, accountName: string): string {
  return generateURI({ issuer, label: accountName, secret, period: PERIOD_SECONDS, digits: 6 });
}

/** The QR code of an otpauth:// URI as inline SVG markup (no external image, no data: URL). */
export async function totpQrSvg(uri: string): Promise<string> {
  // Loaded on the first enrolment: the encoder (and its PNG writer) is not needed to start.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/** The time step a code matches (now ±1), or undefined. */
export async function totpStepOf(secret: string, code: string): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined;
  const result = await verify({ secret, token: code, epochTolerance: PERIOD_SECONDS });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}
