// keyhold webhook create | list | delete
// Through the administration service the Admin API uses (src/services/admin/webhooks.ts):
// the same rules, and each change audited with its actor.
import { parseOptions, required, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { isEventType } from '#src/services/event-types.ts';

function planWebhookCreate(args: string[]): Plan {
  const values = parseOptions(args, { url: { type: 'string' }, events: { type: 'string' } });
  const url = required(values.url, 'url');
  const events = (values.events ?? '').split(/[\s,]+/).filter(Boolean);
  const unknown = events.filter((type) => !isEventType(type));
  if (unknown.length > 0) throw new UsageError(`unknown event type ${unknown.join(', ')}`);
  return {
    needs: 'core',
    async run(core) {
      const webhook = await core.admin.webhooks.create(CLI_ACTOR, { url, events });
      return { id: webhook.id, secret: webhook.secret, url: webhook.url, events: webhook.events };
    },
  };
}

function planWebhookList(args: string[]): Plan {
  parseOptions(args, {});
  return { needs: 'core', run: (core) => core.admin.webhooks.list(CLI_ACTOR) };
}

function planWebhookDelete(args: string[]): Plan {
  const values = parseOptions(args, { id: { type: 'string' } });
  const id = required(values.id, 'id');
  return {
    needs: 'core',
    async run(core) {
      await core.admin.webhooks.remove(CLI_ACTOR, id);
      return { id, deleted: true };
    },
  };
}

export const webhookCommands: CommandGroup = { create: planWebhookCreate, list: planWebhookList, delete: planWebhookDelete };
