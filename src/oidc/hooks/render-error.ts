// The engine's error page for browser-facing endpoints, in Keyhold's look, with the request
// id to quote to support and nothing internal.
import type { Configuration } from 'oidc-provider';
import { message } from '#src/messages/index.ts';
import { renderView } from '#src/views.ts';

export const renderError: NonNullable<Configuration['renderError']> = async (ctx, out) => {
  ctx.type = 'html';
  ctx.body = renderView('error', {
    title: message('page.error.title_server'),
    message: out.error_description ?? message('page.error.protocol_message'),
    code: out.error,
    requestId: ctx.state?.requestId,
  });
};
