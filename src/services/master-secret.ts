// KEYHOLD_SECRET, or in development a random one generated once into DATA_DIR, so that a
// bare `npm start` works and survives restarts. Production refuses to start without it
// (enforced in config.ts).
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';
import { deriveKey } from '#src/crypto.ts';
import { ensurePrivateDirectory, PRIVATE_FILE_MODE } from '#src/stores/data-dir.ts';

export interface DerivedKeys {
  signingKeys: Buffer;
  clientSecrets: Buffer;
  engineState: Buffer;
  /** Seals the token responses kept for REFRESH_REUSE_GRACE (with the rotated token). */
  refreshGrace: Buffer;
  csrf: Buffer;
  /** HMAC key for the six-digit codes of self-service flows. */
  flowCodes: Buffer;
  /** Seals TOTP secrets; keys the HMACs of recovery codes and emailed or texted codes. */
  mfaSecrets: Buffer;
  mfaCodes: Buffer;
  /** Derives WebAuthn challenges (src/services/mfa/webauthn-challenges.ts). */
  webauthnChallenges: Buffer;
  pseudonyms: Buffer;
  /** Seals the bodies of queued mail (links and codes) in the outbox. */
  mailBodies: Buffer;
  /** Seals federation connectors' client secrets and private keys. */
  connectorSecrets: Buffer;
  /** Webhook signing secrets at rest. */
  webhookSecrets: Buffer;
  /** Cookie signing keys for the engine and the parent app (they must be equal). */
  cookieKeys: string[];
  /** The engine's DPoP nonce secret: every node issues and accepts the same nonces. */
  dpopNonces: Buffer;
  /** HMAC key of pairwise subject identifiers (a sector's `sub` for an account). */
  pairwiseSubjects: Buffer;
}

export function resolveMasterSecret(config: Pick<Config, 'KEYHOLD_SECRET' | 'DATA_DIR'>, logger: Logger): string {
  if (config.KEYHOLD_SECRET) return config.KEYHOLD_SECRET;
  const file = path.resolve(config.DATA_DIR, 'keyhold-secret');
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if ((statSync(file).mode & 0o077) !== 0) {
      chmodSync(file, PRIVATE_FILE_MODE);
      logger.warn({ file }, 'the development secret was readable by other users; its mode is now 0600');
    }
    if (stored.length >= 32) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const generated = randomBytes(32).toString('hex');
  ensurePrivateDirectory(path.dirname(file), (details, message) => logger.warn(details, message));
  writeFileSync(file, generated, { mode: PRIVATE_FILE_MODE });
  logger.warn({ file }, 'KEYHOLD_SECRET is not set: generated a development secret; set KEYHOLD_SECRET in production');
  return generated;
}

export function deriveKeys(masterSecret: string): DerivedKeys {
  return {
    signingKeys: deriveKey(masterSecret, 'signing-keys'),
    clientSecrets: deriveKey(masterSecret, 'client-secrets'),
    engineState: deriveKey(masterSecret, 'engine-state'),
    refreshGrace: deriveKey(masterSecret, 'refresh-grace'),
    csrf: deriveKey(masterSecret, 'csrf'),
    flowCodes: deriveKey(masterSecret, 'flow-codes'),
    mfaSecrets: deriveKey(masterSecret, 'mfa-secrets'),
    mfaCodes: deriveKey(masterSecret, 'mfa-codes'),
    webauthnChallenges: deriveKey(masterSecret, 'webauthn-challenges'),
    pseudonyms: deriveKey(masterSecret, 'pseudonyms'),
    mailBodies: deriveKey(masterSecret, 'mail-bodies'),
    connectorSecrets: deriveKey(masterSecret, 'connector-secrets'),
    webhookSecrets: deriveKey(masterSecret, 'webhook-secrets'),
    cookieKeys: [deriveKey(masterSecret, 'cookies').toString('base64url')],
    dpopNonces: deriveKey(masterSecret, 'dpop-nonces'),
    pairwiseSubjects: deriveKey(masterSecret, 'pairwise-subjects'),
  };
}
