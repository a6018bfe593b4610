// keyhold connector create | update | list | delete
// Through the administration service the Admin API uses (src/services/admin/connectors.ts):
// the same rules, and each change audited with its actor.
import { oneLine, parseOptions, required, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';

function metadataOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--metadata is not valid JSON: ${oneLine((error as Error).message)}`);
  }
}

function planConnectorCreate(args: string[]): Plan {
  const values = parseOptions(args, { metadata: { type: 'string' } });
  const metadata = metadataOf(required(values.metadata, 'metadata'));
  // The answer names the redirect URI to register upstream; the secret is never printed.
  return { needs: 'core', run: (core) => core.admin.connectors.create(CLI_ACTOR, metadata) };
}

function planConnectorUpdate(args: string[]): Plan {
  const values = parseOptions(args, { id: { type: 'string' }, metadata: { type: 'string' } });
  const id = required(values.id, 'id');
  const metadata = metadataOf(required(values.metadata, 'metadata'));
  return { needs: 'core', run: (core) => core.admin.connectors.update(CLI_ACTOR, id, metadata) };
}

function planConnectorList(args: string[]): Plan {
  parseOptions(args, {});
  return { needs: 'core', run: (core) => core.connectors.list() };
}

function planConnectorDelete(args: string[]): Plan {
  const values = parseOptions(args, { id: { type: 'string' } });
  const id = required(values.id, 'id');
  return { needs: 'core', run: (core) => core.admin.connectors.remove(CLI_ACTOR, id) };
}

export const connectorCommands: CommandGroup = { create: planConnectorCreate, update: planConnectorUpdate, list: planConnectorList, delete: planConnectorDelete };
