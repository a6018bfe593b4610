// keyhold keys list | rotate | retire
// Through the administration service the Admin API uses (src/services/admin/signing-keys.ts):
// the same rules, and each change audited with its actor.
import { parseArgs } from 'node:util';
import { parse, parseOptions, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { SIGNING_ALGS as signingAlgs, type SigningAlg } from '#src/services/signing-keys.ts';

function planKeysList(args: string[]): Plan {
  parseOptions(args, {});
  return { needs: 'core', run: async (core) => ({ keys: await core.admin.keys.list(CLI_ACTOR) }) };
}

function planKeysRotate(args: string[]): Plan {
  const values = parseOptions(args, { alg: { type: 'string' } });
  const alg = values.alg;
  if (alg !== undefined && !signingAlgs.includes(alg as SigningAlg)) {
    throw new UsageError(`--alg must be one of ${signingAlgs.join(', ')}`);
  }
  // An algorithm outside SIGNING_ALGS is refused by the service (invalid_signing_alg).
  return { needs: 'core', run: async (core) => ({ keys: await core.admin.keys.rotate(CLI_ACTOR, alg as SigningAlg | undefined) }) };
}

function planKeysRetire(args: string[]): Plan {
  const { positionals } = parse(() => parseArgs({ args, strict: true, allowPositionals: true, options: {} }));
  if (positionals.length === 0) throw new UsageError('missing key id: keyhold keys retire KID');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const kid = positionals[0]!;
  return { needs: 'core', run: (core) => core.admin.keys.retire(CLI_ACTOR, kid) };
}

export const keysCommands: CommandGroup = { list: planKeysList, rotate: planKeysRotate, retire: planKeysRetire };
