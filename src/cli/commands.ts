// Turns argv into a plan, before any configuration or database is touched.
import { UsageError } from '#src/cli/args.ts';
import { auditCommands } from '#src/cli/audit.ts';
import { clientCommands } from '#src/cli/client.ts';
import { connectorCommands } from '#src/cli/connector.ts';
import { planInit } from '#src/cli/init.ts';
import { inviteCommands } from '#src/cli/invite.ts';
import { keysCommands } from '#src/cli/keys.ts';
import { planMigrate } from '#src/cli/migrate.ts';
import type { CommandGroup, CommandIo, Plan } from '#src/cli/plan.ts';
import { resourceCommands } from '#src/cli/resource.ts';
import { roleCommands } from '#src/cli/role.ts';
import { tenantCommands } from '#src/cli/tenant.ts';
import { userCommands } from '#src/cli/user.ts';
import { webhookCommands } from '#src/cli/webhook.ts';

const groups: Record<string, CommandGroup> = {
  user: userCommands,
  role: roleCommands,
  client: clientCommands,
  resource: resourceCommands,
  invite: inviteCommands,
  keys: keysCommands,
  tenant: tenantCommands,
  audit: auditCommands,
  connector: connectorCommands,
  webhook: webhookCommands,
};

export function planCommand(argv: string[], io: CommandIo = { stdin: process.stdin }): Plan {
  const [command, subcommand, ...rest] = argv;
  if (command === 'migrate') return planMigrate(argv.slice(1));
  if (command === 'init') return planInit(argv.slice(1));
  // Own properties only: "constructor" or "toString" must not resolve to Object's members.
  const group = command !== undefined && Object.hasOwn(groups, command) ? groups[command] : undefined;
  if (!group) throw new UsageError(`unknown command "${command}" (run "keyhold help")`);
  if (subcommand === undefined) throw new UsageError(`missing subcommand: keyhold ${command} ${Object.keys(group).join('|')}`);
  const plan = Object.hasOwn(group, subcommand) ? group[subcommand] : undefined;
  if (!plan) throw new UsageError(`unknown command "${command} ${subcommand}" (run "keyhold help")`);
  return plan(rest, io);
}
