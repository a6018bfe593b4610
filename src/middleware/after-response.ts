// Work that must not show in a response's timing runs once the response has been sent:
// e.g. a password reset for an existing account (a flow, a mail, an audit record) against
// nothing for an unknown address. Its failures are logged, never answered.
import { AsyncResource } from 'node:async_hooks';
import type { Context } from 'koa';
import type { BackgroundTasks } from '#src/services/background-tasks.ts';

export function afterResponse(ctx: Context, tasks: BackgroundTasks, description: string, task: () => Promise<unknown>): void {
  const log = ctx.state.log;
  // 'close' follows 'finish', and also comes when the client went away first. Bound to the
  // request's async context, so the work keeps its language and brand (a mail it sends).
  ctx.res.once('close', AsyncResource.bind(() => tasks.run(description, task, log)));
}
