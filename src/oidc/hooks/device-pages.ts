// The pages of the device authorization grant (RFC 8628) that the browser sees at the
// verification URI: enter the code, confirm the device, and done; in Keyhold's look. Between
// confirmation and "done" the user signs in through the usual interaction pages.
//
// These forms post to the engine's own endpoint, which reads the body itself, so their
// CSRF token is the engine's: a random secret kept in the engine's session for this
// browser (field `xsrf`, compared in constant time), issued afresh with each code page.
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { message, type MessageKey } from '#src/messages/index.ts';
import { renderView } from '#src/views.ts';

type DeviceFlow = NonNullable<NonNullable<Configuration['features']>['deviceFlow']>;

const formSecret = (ctx: KoaContextWithOIDC): string => String((ctx.oidc.session?.state as { secret?: unknown } | undefined)?.secret ?? '');

const render = (ctx: KoaContextWithOIDC, view: string, context: Record<string, unknown>) => {
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = renderView(view, context);
};

/** What the code page says after a failed attempt (the engine's re-render errors, by name). */
function problemOf(error: unknown): MessageKey | undefined {
  if (!error) return undefined;
  const { name, userCode } = error as { name?: string; userCode?: string };
  if (name === 'AbortedError') return 'page.device.aborted';
  if (name === 'ExpiredError') return 'page.device.expired';
  if (name === 'AlreadyUsedError') return 'page.device.used';
  if (userCode !== undefined || name === 'NoCodeError' || name === 'NotFoundError') return 'page.device.invalid';
  return 'page.device.failed';
}

export const userCodeInputSource: NonNullable<DeviceFlow['userCodeInputSource']> = async (ctx, _form, _out, error) => {
  const problem = problemOf(error);
  if (problem) ctx.status = 400;
  render(ctx, 'device-code', {
    title: message('page.device.title'),
    action: ctx.oidc.urlFor('code_verification'),
    xsrf: formSecret(ctx),
    error: problem ? message(problem) : undefined,
  });
};

export const userCodeConfirmSource: NonNullable<DeviceFlow['userCodeConfirmSource']> = async (ctx, _form, client, _deviceInfo, userCode) => {
  render(ctx, 'device-confirm', {
    title: message('page.device_confirm.title'),
    action: ctx.oidc.urlFor('code_verification'),
    xsrf: formSecret(ctx),
    userCode,
    clientName: client.clientName ?? client.clientId,
  });
};

export const successSource: NonNullable<DeviceFlow['successSource']> = async (ctx) => {
  const client = ctx.oidc.client;
  render(ctx, 'message', {
    title: message('page.device_done.title'),
    message: message('page.device_done.message', { client: client?.clientName ?? client?.clientId ?? '' }),
  });
};
