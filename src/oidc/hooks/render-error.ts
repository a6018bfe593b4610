// The engine's error page for browser-facing endpoints, in Keyhold's look, with the request
// id to quote to support and nothing internal.
import type { Configuration } from 'oidc-provider';
import { renderView } from '#src/views.ts';

export const renderError: NonNullable<Configuration['renderError']> = async (ctx, out) => {
  ctx.type = 'html';
  ctx.body = renderView('error', {
    title: 'Something went wrong',
    message: out.error_description ?? 'The request could not be completed.',
    code: out.error,
    requestId: ctx.state?.requestId,
  });
};
