// What the second-factor tests share: a Keyhold with a mailbox and a real local SMS gateway
// (a webhook receiver, which may check the signature Keyhold sends), reading codes off the
// pages and the gateway, and an authenticator app enrolled through the service.
import { setTimeout as sleep } from 'node:timers/promises';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestFn } from 'ava';
import { generate } from 'otplib';
import type { Account } from '#src/services/accounts.ts';
import type { Page } from './browser.ts';
import { startedForTests, startServerWithMailbox, type ServerWithMailbox } from './mailbox.ts';
import { atRedirectUri, type OpenedAuthorization } from './oidc.ts';
import type { TestServer } from './server.ts';

export const SMS_WEBHOOK_SECRET = 'sms-webhook-secret-0123456789abcdef0123';

export interface SmsGateway {
  url: string;
  /** Every text accepted, in order. */
  texts: Array<{ to: string; message: string }>;
  /** Texts refused for a missing or wrong signature (only when signatures are checked). */
  forged(): number;
  /** The six-digit code of the last text to `to`. */
  lastCode(to: string): string | undefined;
  close(): Promise<void>;
}

function signatureValid(header: string, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', SMS_WEBHOOK_SECRET).update(`${match[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

/** The SMS gateway: with `verifySignatures`, it accepts only texts signed with the shared secret. */
export async function startSmsGateway(options: { verifySignatures: boolean }): Promise<SmsGateway> {
  const texts: SmsGateway['texts'] = [];
  let forged = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (options.verifySignatures && !signatureValid(String(request.headers['keyhold-signature'] ?? ''), body)) {
        forged += 1;
        response.writeHead(401).end();
        return;
      }
      const parsed = JSON.parse(body) as { to: string; message: string };
      texts.push({ to: parsed.to, message: parsed.message });
      response.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`,
    texts,
    forged: () => forged,
    lastCode: (to) => /(\d{6})/.exec([...texts].reverse().find((entry) => entry.to === to)?.message ?? '')?.[1],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface MfaTestServer extends ServerWithMailbox {
  sms: SmsGateway;
}

/** A Keyhold with SMS codes through the gateway and mail through the mailbox; `env` adds to (or overrides) that. */
export async function startMfaTestServer(env: Record<string, string>, options: { verifySignatures: boolean }): Promise<MfaTestServer> {
  const sms = await startSmsGateway(options);
  const withMailbox = await startServerWithMailbox({ MFA_SMS: 'true', SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET, ...env });
  return {
    ...withMailbox,
    sms,
    async stop() {
      await withMailbox.stop();
      await sms.close();
    },
  };
}

/** An MFA test server (startMfaTestServer) for the tests of one file. */
export const mfaTestServerForTests = (test: TestFn, env: Record<string, string>, options: { verifySignatures: boolean }) =>
  startedForTests(test, () => startMfaTestServer(env, options));

export const totpSecretOf = (page: Page) => /<code class="secret" id="totp-secret">([A-Z2-7]+)<\/code>/.exec(page.body)?.[1];
export const recoveryCodesOf = (page: Page) => [...page.body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((match) => match[1]!);
export const codeNow = (secret: string) => generate({ secret });
export const codeNextStep = (secret: string) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });

export async function accountOf(server: TestServer, user: { id: string }): Promise<Account> {
  return (await server.keyhold.accounts.findById(user.id))!;
}

/**
 * The code of the step before the current one: accepted (one step either side) and it leaves
 * the current step unclaimed for the sign-in that follows. Taken at least ten seconds before
 * the step ends, so that a slow request cannot carry it two steps back.
 */
export async function previousStepCode(secret: string): Promise<string> {
  const intoStep = (Date.now() / 1000) % 30;
  if (intoStep > 20) await sleep((30 - intoStep) * 1000 + 50);
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 });
}

/** Enrols an authenticator app for the user through the service (as the account page would), with the previous step's code. */
export async function withTotp(server: TestServer, user: { id: string }): Promise<{ secret: string; recoveryCodes: string[] }> {
  const account = await accountOf(server, user);
  const enrolment = await server.keyhold.mfa.startTotp(account);
  const confirmed = await server.keyhold.mfa.confirmEnrolment(account, enrolment.factorId, await previousStepCode(enrolment.secret));
  return { secret: enrolment.secret, recoveryCodes: confirmed.recoveryCodes! };
}

/** The login form of an opened authorization, with the user's password. */
export function passwordStep(flow: OpenedAuthorization, user: { email: string; password: string }): Promise<Page> {
  return flow.browser.submit(flow.page, /\/login$/, { email: user.email, password: user.password }, { stopAt: atRedirectUri });
}
