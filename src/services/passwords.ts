// Password hashing with argon2id. Parameters are configurable; a hash made with weaker
// parameters than the configured ones, or with another algorithm (bcrypt hashes imported
// from a legacy system), is reported as needing a rehash, so accounts move to argon2id
// with the current parameters at their next successful login.
import argon2 from 'argon2';
import { compare as bcryptCompare } from 'bcryptjs';

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

export type PasswordHashFormat = 'argon2id' | 'bcrypt';

// $2a$, $2b$ and $2y$ are the same algorithm with historical bug-fix markers; $2x$ marks
// hashes from the buggy crypt_blowfish and is not accepted. Cost is 4 to 31.
const bcryptHash = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
// PHC string format. Writers differ in the order of the parameters (the reference
// implementation: m,t,p; node-argon2: m,p,t), so they are read by name.
const argon2idHash = /^\$argon2id\$v=(\d+)\$([a-z]=\d+(?:,[a-z]=\d+)*)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const ARGON2_CURRENT_VERSION = 19;

interface Argon2idHashParameters {
  version: number;
  memoryCost: number;
  timeCost: number;
}

function parseArgon2id(hash: string): Argon2idHashParameters | undefined {
  const match = argon2idHash.exec(hash);
  if (!match) return undefined;
  const parameters = new Map(match[2]!.split(',').map((pair) => pair.split('=') as [string, string]));
  const memoryCost = Number(parameters.get('m'));
  const timeCost = Number(parameters.get('t'));
  if (!parameters.has('p') || !(memoryCost > 0) || !(timeCost > 0)) return undefined;
  return { version: Number(match[1]), memoryCost, timeCost };
}

/** The format of a stored password hash Keyhold can verify, or undefined. */
export function passwordHashFormat(hash: string): PasswordHashFormat | undefined {
  if (bcryptHash.test(hash)) return 'bcrypt';
  if (parseArgon2id(hash)) return 'argon2id';
  return undefined;
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
        // bcryptjs compares in constant time; it reads only the first 72 bytes of the
        // password, as every bcrypt does, which the rehash at login then leaves behind.
        const valid = bcryptHash.test(target) ? await bcryptCompare(password, target) : await argon2.verify(target, password);
        return Boolean(storedHash) && valid;
      } catch {
        return false;
      }
    },
    needsRehash(storedHash) {
      const current = parseArgon2id(storedHash);
      if (!current) return true;
      // Parallelism is not compared: it splits the same memory and passes across lanes and
      // makes a guess no dearer, so a hash made with another value is not weaker. A hash
      // made with stronger parameters is kept rather than downgraded.
      return current.version !== ARGON2_CURRENT_VERSION || current.memoryCost < parameters.memoryCost || current.timeCost < parameters.timeCost;
    },
  };
}
