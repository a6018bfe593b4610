// keyhold keys list | rotate | retire
import { parseArgs } from 'node:util';
import { parse, parseOptions, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { listKeys, retireKey, rotateKeys, SIGNING_ALGS as signingAlgs, type SigningAlg } from '#src/services/signing-keys.ts';

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
  // An algorithm outside SIGNING_ALGS is refused by the service (invalid_signing_alg).
  return { needs: 'core', run: async (core) => ({ keys: await rotateKeys(core.db, core.keyOptions, alg as SigningAlg | undefined) }) };
}

function planKeysRetire(args: string[]): Plan {
  const { positionals } = parse(() => parseArgs({ args, strict: true, allowPositionals: true, options: {} }));
  if (positionals.length === 0) throw new UsageError('missing key id: keyhold keys retire KID');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const kid = positionals[0]!;
  return { needs: 'core', run: (core) => retireKey(core.db, core.keyOptions, kid) };
}

export const keysCommands: CommandGroup = { list: planKeysList, rotate: planKeysRotate, retire: planKeysRetire };
