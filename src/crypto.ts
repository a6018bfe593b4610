// Primitives for secrets at rest: HKDF-derived keys, AES-256-GCM envelopes, hashes of
// high-entropy tokens, and constant-time comparison. One place, so every caller gets the
// same, reviewed choices.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** Derives an independent 32-byte key for one purpose from the master secret. */
export function deriveKey(masterSecret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterSecret, 'keyhold', purpose, 32));
}

/** AES-256-GCM with a random 96-bit nonce; output is `v1.<nonce>.<tag>.<ciphertext>` (base64url). */
export function encrypt(key: Buffer, plaintext: string, associatedData = ''): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(associatedData));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', nonce, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** Stored data could not be decrypted: tampered with, or sealed under another KEYHOLD_SECRET. */
export class DecryptionError extends Error {
  override name = 'DecryptionError';
  constructor() {
    super('cannot decrypt stored data: KEYHOLD_SECRET differs from the one the database was set up with, or the data was altered');
  }
}

export function decrypt(key: Buffer, envelope: string, associatedData = ''): string {
  const [version, nonce, tag, ciphertext] = envelope.split('.');
  if (version !== 'v1' || !nonce || !tag || ciphertext === undefined) throw new DecryptionError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError();
  }
}

/**
 * SHA-256 of a high-entropy secret (token, code, link secret). No salt or stretching is
 * needed: these values are random and long, so the hash is not guessable; the lookup by
 * hash keeps the raw value out of storage.
 */
export function hashToken(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
