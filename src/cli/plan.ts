// What a parsed command needs, decided before any configuration or database is touched:
// the bare database (migrate must not do more than migrate), or the core, so that accounts,
// clients and keys follow exactly the server's rules. Never the HTTP app or the engine host.
import type { Kysely } from 'kysely';
import type { Core } from '#src/core.ts';
import type { Database } from '#src/stores/schema.ts';

export type Plan = { needs: 'database'; run(db: Kysely<Database>): Promise<unknown> } | { needs: 'core'; run(core: Core): Promise<unknown> };

/** Where a command reads its standard input: the process's own, or what the CLI sent the running server. */
export interface CommandIo {
  stdin: NodeJS.ReadableStream;
}

/** A command group's subcommands (`keyhold user create|update|import`). */
export type CommandGroup = Record<string, (args: string[], io: CommandIo) => Plan>;
