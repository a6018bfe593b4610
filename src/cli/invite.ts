// keyhold invite create
import { parseOptions, required } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';

function planInviteCreate(args: string[]): Plan {
  const values = parseOptions(args, { email: { type: 'string' } });
  const email = required(values.email, 'email');
  // The mail is queued; the server's mail delivery job sends it.
  return { needs: 'core', run: (core) => core.registration.invite(email, 'cli') };
}

export const inviteCommands: CommandGroup = { create: planInviteCreate };
