// The secrets a person types as a second factor, and how they are kept: recovery codes
// and emailed or texted codes are stored only as HMACs under a key derived from
// KEYHOLD_SECRET (a stolen database alone cannot test guesses offline), each bound to its
// owner or its challenge so a hash cannot be moved to another account.
import { createHmac, randomInt } from 'node:crypto';
import { constantTimeEqual } from '#src/crypto.ts';

export const RECOVERY_CODE_COUNT = 10;
// No 0/O, 1/I/L: codes are read off paper.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_CODE_LENGTH = 10;

/** Ten fresh recovery codes, shown as `xxxxx-xxxxx` (about 49 bits each). */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const chars = Array.from({ length: RECOVERY_CODE_LENGTH }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** What a person typed, as stored: case, spaces and dashes do not matter. */
export function normalizeRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, '');
}

export function hashRecoveryCode(key: Buffer, accountId: string, code: string): string {
  return createHmac('sha256', key).update(`recovery:${accountId}:${normalizeRecoveryCode(code)}`).digest('base64url');
}

/** A six-digit code for email or SMS. */
export function sixDigitCode(): string {
  return String(randomInt(1_000_000)).padStart(6, '0');
}

export function hashChallengeCode(key: Buffer, challengeId: string, code: string): string {
  return createHmac('sha256', key).update(`challenge:${challengeId}:${code}`).digest('base64url');
}

export function challengeCodeMatches(key: Buffer, challengeId: string, code: string, storedHash: string): boolean {
  return constantTimeEqual(hashChallengeCode(key, challengeId, code.trim()), storedHash);
}
