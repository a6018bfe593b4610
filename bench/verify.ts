// @keyhold/verify against bare jose: the same tokens, verified in this process by
// `createVerifier(...).verify` (discovery, cached remote key set, typed errors, claim shapes)
// and by `jose.jwtVerify` with a local key set and the same checks written by hand. Short
// rounds alternate between the two (and which goes first), so that a change in the machine's
// load meanwhile hits both; each rate is the median of its rounds.
import * as jose from 'jose';
import { createVerifier } from '@keyhold/verify';
import { measureLoop, type Measurement } from './load.ts';

export interface VerifyComparisonOptions {
  issuer: string;
  audience: string;
  /** Access tokens Keyhold issued for `audience`. */
  tokens: string[];
  rounds: number;
  roundMs: number;
  maxOps: number;
}

export interface VerifyComparison {
  bareRate: number;
  packageRate: number;
  /** packageRate / bareRate; the goal is at least 0.9. */
  ratio: number;
  bareRounds: number[];
  packageRounds: number[];
  alg: string;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function compareVerification(options: VerifyComparisonOptions): Promise<VerifyComparison> {
  const { issuer, audience, tokens } = options;
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  const localKeys = jose.createLocalJWKSet((await (await fetch(discovery.jwks_uri)).json()) as jose.JSONWebKeySet);
  const alg = jose.decodeProtectedHeader(tokens[0]!).alg!;
  const bareOptions: jose.JWTVerifyOptions = {
    issuer,
    audience,
    typ: 'at+jwt',
    algorithms: [alg],
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
  };
  const verifier = createVerifier({ issuer, audience });

  const bare = (index: number) => jose.jwtVerify(tokens[index % tokens.length]!, localKeys, bareOptions);
  const verified = (index: number) => verifier.verify(tokens[index % tokens.length]!);
  // Both must accept every token (and the package must have discovered its keys) before timing.
  for (let index = 0; index < tokens.length; index++) {
    const [{ payload }, claims] = await Promise.all([bare(index), verified(index)]);
    if (payload.jti !== claims.jti) throw new Error('the two verifications disagree');
  }

  const bareRounds: Measurement[] = [];
  const packageRounds: Measurement[] = [];
  const run = (op: (index: number) => Promise<unknown>) => measureLoop({ durationMs: options.roundMs, maxOps: options.maxOps, op });
  for (let round = 0; round < options.rounds; round++) {
    if (round % 2 === 0) {
      bareRounds.push(await run(bare));
      packageRounds.push(await run(verified));
    } else {
      packageRounds.push(await run(verified));
      bareRounds.push(await run(bare));
    }
  }
  const bareRate = median(bareRounds.map((m) => m.rate));
  const packageRate = median(packageRounds.map((m) => m.rate));
  return {
    bareRate,
    packageRate,
    ratio: packageRate / bareRate,
    bareRounds: bareRounds.map((m) => Math.round(m.rate)),
    packageRounds: packageRounds.map((m) => Math.round(m.rate)),
    alg,
  };
}
