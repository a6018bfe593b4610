// keyhold keys list | rotate | retire
import { parseArgs } from 'node:util';
import { parse, parseOptions, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { listKeys, retireKey, rotateKeys, type SigningAlg } from '#src/services/signing-keys.ts';

const signingAlgs: readonly SigningAlg[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

function planKeysList(args: string[]): Plan {
  parseOptions(args, {});
  return { needs: 'core', run: async (core) => ({ keys: await listKeys(core.db) }) };
}

function planKeysRotate(args: string[]): Plan {
  const values = parseOptions(args, { alg: { type: 'string' } });
  const alg = values.alg;
  if (alg !== undefined && !signingAlgs.includes(alg as SigningAlg)) {
    throw new UsageError(`--alg must be one of ${signingAlgs.join(', ')}`);
  }
  return {
    needs: 'core',
    run: async (core) => {
      // A key for an algorithm the nodes are not configured for would be published but
      // never chosen to sign, and would confuse the next rotation.
      if (alg !== undefined && !core.keyOptions.algorithms.includes(alg as SigningAlg)) {
        throw new Error(`${alg} is not in SIGNING_ALGS (${core.keyOptions.algorithms.join(', ')})`);
      }
      return { keys: await rotateKeys(core.db, core.keyOptions, alg as SigningAlg | undefined) };
    },
  };
}

function planKeysRetire(args: string[]): Plan {
  const { positionals } = parse(() => parseArgs({ args, strict: true, allowPositionals: true, options: {} }));
  if (positionals.length === 0) throw new UsageError('missing key id: keyhold keys retire KID');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const kid = positionals[0]!;
  return { needs: 'core', run: (core) => retireKey(core.db, core.keyOptions, kid) };
}

export const keysCommands: CommandGroup = { list: planKeysList, rotate: planKeysRotate, retire: planKeysRetire };
