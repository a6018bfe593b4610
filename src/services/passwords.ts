// Password hashing with argon2id. Parameters are configurable; a hash made with weaker
// parameters than the configured ones, or with another algorithm (bcrypt hashes imported
// from a legacy system), is reported as needing a rehash, so accounts move to argon2id
// with the current parameters at their next successful login.
//
// Every verification does the same work whatever the stored hash: one argon2id
// verification and, while imported bcrypt hashes remain, one bcrypt comparison at their
// cost; the one that does not apply (or both, for an unknown account) runs against a dummy
// hash. Otherwise login timing tells imported accounts (slow bcrypt) from others, and so
// from unknown names.
import argon2 from 'argon2';
import type { WorkGate } from '#src/services/work-gate.ts';

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

/** The hash functions themselves, replaceable so that a test can count what a verification does. */
export interface HashPrimitives {
  /** An argon2id hash with these parameters. */
  argon2Hash(password: string, parameters: Argon2Parameters): Promise<string>;
  argon2Verify(hash: string, password: string): Promise<boolean>;
  bcryptHash(password: string, cost: number): Promise<string>;
  bcryptCompare(password: string, hash: string): Promise<boolean>;
}

export const hashPrimitives: HashPrimitives = {
  argon2Hash: (password, parameters) => argon2.hash(password, { type: argon2.argon2id, ...parameters }),
  argon2Verify: (hash, password) => argon2.verify(hash, password),
  // bcryptjs is loaded by the first imported (bcrypt) hash only: most nodes never have one.
  bcryptHash: async (password, cost) => (await import('bcryptjs')).default.hash(password, cost),
  // bcryptjs compares in constant time; it reads only the first 72 bytes of the password,
  // as every bcrypt does, which the rehash at login then leaves behind.
  bcryptCompare: async (password, hash) => (await import('bcryptjs')).default.compare(password, hash),
};

export interface PasswordHasherOptions {
  primitives?: HashPrimitives;
  /** The highest cost among stored bcrypt hashes, or undefined when none is left. */
  legacyBcryptCost?: () => Promise<number | undefined>;
  /** Admission of hashing work (bounded queue); unbounded when absent. */
  gate?: WorkGate;
}

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

/** The cost of a bcrypt hash ($2b$12$… → 12). */
export function bcryptCost(hash: string): number | undefined {
  return bcryptHash.test(hash) ? Number(hash.slice(4, 6)) : undefined;
}

export function createPasswordHasher(parameters: Argon2Parameters, hasherOptions: PasswordHasherOptions = {}): PasswordHasher {
  const primitives = hasherOptions.primitives ?? hashPrimitives;
  const DUMMY_PASSWORD = 'keyhold-dummy-password';
  const dummyArgon2 = primitives.argon2Hash(DUMMY_PASSWORD, parameters);
  const dummyBcrypt = new Map<number, Promise<string>>();
  const dummyBcryptAt = (cost: number) => {
    if (!dummyBcrypt.has(cost)) dummyBcrypt.set(cost, primitives.bcryptHash(DUMMY_PASSWORD, cost));
    return dummyBcrypt.get(cost)!;
  };
  const attempt = (check: () => Promise<boolean>) => check().catch(() => false);
  // Outside `attempt`: a refusal (server_busy) is an answer of its own, never a wrong password.
  const admitted = <T>(work: () => Promise<T>) => (hasherOptions.gate ? hasherOptions.gate.run(work) : work());

  return {
    hash: (password) => admitted(() => primitives.argon2Hash(password, parameters)),
    async verify(storedHash, password) {
      const stored = storedHash ? { hash: storedHash, bcryptCost: bcryptCost(storedHash) } : undefined;
      const legacyCost = await hasherOptions.legacyBcryptCost?.();
      const argon2Target = stored && stored.bcryptCost === undefined ? stored.hash : await dummyArgon2;
      const bcryptTarget = stored?.bcryptCost !== undefined ? stored.hash : legacyCost !== undefined ? await dummyBcryptAt(legacyCost) : undefined;
      const [argon2Valid, bcryptValid] = await admitted(async () => [
        await attempt(() => primitives.argon2Verify(argon2Target, password)),
        bcryptTarget ? await attempt(() => primitives.bcryptCompare(password, bcryptTarget)) : false,
      ]);
      if (!stored) return false;
      return stored.bcryptCost === undefined ? argon2Valid : bcryptValid;
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
