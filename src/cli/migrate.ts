// keyhold migrate: the bare database, nothing else (no keys, no services).
import { parseOptions } from '#src/cli/args.ts';
import type { Plan } from '#src/cli/plan.ts';
import { migrateToLatest } from '#src/stores/migrations.ts';

export function planMigrate(args: string[]): Plan {
  parseOptions(args, {});
  return { needs: 'database', run: async (db) => ({ applied: await migrateToLatest(db) }) };
}
