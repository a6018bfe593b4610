// The pages of RP-initiated logout: the confirmation form the engine hands over, and the
// page after signing out when the client gave no post_logout_redirect_uri.
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { message } from '#src/messages/index.ts';
import { renderView } from '#src/views.ts';

type RpInitiatedLogout = NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>;

function clientName(ctx: KoaContextWithOIDC): string | undefined {
  const client = ctx.oidc?.client;
  return client ? (client.clientName ?? client.clientId) : undefined;
}

export const logoutSource: NonNullable<RpInitiatedLogout['logoutSource']> = async (ctx, form) => {
  ctx.type = 'html';
  ctx.body = renderView('logout', { title: message('page.logout.title'), form, clientName: clientName(ctx) });
};

export const postLogoutSuccessSource: NonNullable<RpInitiatedLogout['postLogoutSuccessSource']> = async (ctx) => {
  ctx.type = 'html';
  ctx.body = renderView('logged-out', { title: message('page.logged_out.title'), clientName: clientName(ctx) });
};
