// Development mail: the .eml files the mail worker writes under DATA_DIR/outbox when no
// SMTP_URL is set, listed newest first with a view of each. Mounted only when NODE_ENV is not
// production (app.ts), and answered only to the machine itself: the mails hold live reset
// links and codes, and a development server listens on every interface by default (and is
// often published through a tunnel or a local proxy, or visited by a page that rebinds DNS).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import { parseEml } from '#src/mail/eml.ts';
import { message } from '#src/messages/index.ts';
import type { PageKit } from '#src/routes/page-kit.ts';

const BASE = '/dev/mail';
const MAIL_FILE = /^[A-Za-z0-9-]{1,100}\.eml$/;
const LIST_LIMIT = 200;

// The mail's own HTML, with its inline styles, in a sandbox that runs nothing and reaches
// nothing but images: the product pages' CSP stays strict, this dev-only view has its own.
const MAIL_HTML_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: http://localhost:* data:; frame-ancestors 'self'";

const isLoopback = (ip: string | undefined) => ip !== undefined && (ip === '::1' || /^(::ffff:)?127\./.test(ip));
const isLoopbackName = (hostname: string) => hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/**
 * Whether the request comes from a person at this machine. The socket itself must be
 * loopback: with TRUST_PROXY a client that reaches the port directly writes what it likes
 * into X-Forwarded-For. Without TRUST_PROXY, a forwarding header says a proxy or tunnel on
 * this machine (ngrok, a local nginx) passes on someone else's request. And the Host must
 * name this machine or the issuer: a page elsewhere that rebinds its DNS name to 127.0.0.1
 * would otherwise read the mails through the developer's own browser.
 */
function isLocalRequest(ctx: Context, config: Pick<Config, 'ISSUER' | 'TRUST_PROXY'>): boolean {
  if (!isLoopback(ctx.req.socket.remoteAddress) || !isLoopback(ctx.ip)) return false;
  if (!config.TRUST_PROXY && FORWARDING_HEADERS.some((name) => ctx.get(name) !== '')) return false;
  const hostname = ctx.hostname.toLowerCase();
  return isLoopbackName(hostname) || hostname === new URL(config.ISSUER).hostname.toLowerCase();
}

export function devMailRoutes(deps: { config: Pick<Config, 'DATA_DIR' | 'SMTP_URL' | 'ISSUER' | 'TRUST_PROXY'>; pages: PageKit }): Router {
  const { config, pages } = deps;
  const router = new Router({ prefix: BASE });
  const outbox = path.resolve(config.DATA_DIR, 'outbox');

  router.use(async (ctx, next) => {
    if (!isLocalRequest(ctx, config)) throw new KeyholdError('not_found');
    await next();
  });

  const mailFiles = async (): Promise<string[]> => {
    const names = await readdir(outbox).catch(() => [] as string[]);
    // The worker names files <ISO time>-<id>.eml: reverse name order is newest first.
    return names.filter((name) => MAIL_FILE.test(name)).sort().reverse();
  };

  const readMail = async (ctx: Context) => {
    const file = String(ctx.params.file);
    if (!MAIL_FILE.test(file) || !(await mailFiles()).includes(file)) throw new KeyholdError('not_found');
    return parseEml(await readFile(path.join(outbox, file)));
  };

  router.get('/', async (ctx) => {
    const files = (await mailFiles()).slice(0, LIST_LIMIT);
    const mails = await Promise.all(
      files.map(async (file) => ({ file, ...parseEml(await readFile(path.join(outbox, file))) })),
    );
    pages.render(ctx, 'dev-mail', {
      title: message('view.dev_mail.title'),
      directory: outbox,
      smtp: Boolean(config.SMTP_URL),
      mails: mails.map((mail) => ({ href: `${BASE}/${mail.file}`, subject: mail.subject, to: mail.to, time: mail.date?.toISOString() ?? '' })),
    });
  });

  router.get('/:file', async (ctx) => {
    const mail = await readMail(ctx);
    pages.render(ctx, 'dev-mail-message', {
      title: mail.subject,
      to: mail.to,
      time: mail.date?.toISOString() ?? '',
      text: mail.text,
      htmlHref: mail.html ? `${BASE}/${String(ctx.params.file)}/html` : undefined,
      backHref: `${BASE}/`,
    });
  });

  router.get('/:file/html', async (ctx) => {
    const mail = await readMail(ctx);
    if (!mail.html) throw new KeyholdError('not_found');
    ctx.set('Content-Security-Policy', MAIL_HTML_POLICY);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';
    ctx.body = mail.html;
  });

  return router;
}
