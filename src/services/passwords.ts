// Password hashing with argon2id. Parameters are configurable; a hash made with weaker
// parameters than the configured ones is reported as needing a rehash, so accounts move
// to the current parameters at their next successful login.
import argon2 from 'argon2';

export interface Argon2Parameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies against a stored hash; an absent hash still costs one verification. */
  verify(storedHash: string | null | undefined, password: string): Promise<boolean>;
  needsRehash(storedHash: string): boolean;
}

export function createPasswordHasher(parameters: Argon2Parameters): PasswordHasher {
  const options = { type: argon2.argon2id, ...parameters } as const;
  // Verified when the account does not exist, so that an unknown email costs the same
  // time as a wrong password and login timing reveals nothing.
  const dummyHash = argon2.hash('keyhold-dummy-password', options);

  return {
    hash: (password) => argon2.hash(password, options),
    async verify(storedHash, password) {
      const target = storedHash ?? (await dummyHash);
      try {
        const valid = await argon2.verify(target, password);
        return Boolean(storedHash) && valid;
      } catch {
        return false;
      }
    },
    needsRehash(storedHash) {
      try {
        return argon2.needsRehash(storedHash, options);
      } catch {
        return true;
      }
    },
  };
}
