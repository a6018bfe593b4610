// Composes mail and puts it in the SQL outbox; the mail worker sends it. Callers pass the
// transaction that makes the change a mail is about, so the two commit or vanish together,
// and a request never waits for an SMTP server. Bodies carry live links and codes, so they
// are sealed (AES-256-GCM, bound to the message id) before they reach the database, and the
// worker drops them once sent: a read of the outbox table yields no usable secret.
import { randomUUID } from 'node:crypto';
import { decrypt, encrypt } from '#src/crypto.ts';
import type { Kysely, Transaction } from 'kysely';
import { catalogs, mailTemplates, resolveMailLocale, type MailData, type MailTemplate } from '#src/mail/messages.ts';
import { insertOutboxMail } from '#src/stores/mail-outbox-store.ts';
import type { Database } from '#src/stores/schema.ts';
import { resolveLanguage } from '#src/messages/index.ts';
import { defaultBrand, type Brand } from '#src/presentation/brand.ts';
import { currentLocales } from '#src/presentation/context.ts';
import { renderView } from '#src/views.ts';

export type { MailTemplate } from '#src/mail/messages.ts';

export interface MailMessage {
  to: string;
  template: MailTemplate;
  data: Record<string, string>;
  /** The recipient's locale (BCP 47); the mailer's default when absent or unknown. */
  locale?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface MailerOptions {
  /** Keyhold's issuer URL; its host tells recipients where a mail came from. */
  issuer: string;
  defaultLocale: string;
  /** The operator's brand: its name in subjects and texts, its logo, colour and links in the HTML part. */
  brand?: Brand;
  /** Seals the bodies in the outbox (DerivedKeys.mailBodies). */
  bodyKey: Buffer;
}

export interface Mailer {
  /** Renders the message and queues it; resolves to the outbox id. */
  enqueue(message: MailMessage, executor?: Kysely<Database> | Transaction<Database>): Promise<string>;
}

/** The data each template needs; `name` is optional wherever a greeting can use it. */
export const mailTemplateFields: Readonly<Record<MailTemplate, { required: readonly string[]; links: readonly string[] }>> = {
  verification: { required: ['link', 'code'], links: ['link'] },
  registration_duplicate: { required: ['loginUrl', 'recoveryUrl'], links: ['loginUrl', 'recoveryUrl'] },
  password_reset: { required: ['link'], links: ['link'] },
  password_changed: { required: ['recoveryUrl'], links: ['recoveryUrl'] },
  email_change_verify: { required: ['link', 'code'], links: ['link'] },
  email_change_requested: { required: ['newEmail', 'link'], links: ['link'] },
  email_change_notice: { required: ['newEmail', 'link'], links: ['link'] },
  email_change_reverted: { required: ['recoveryUrl'], links: ['recoveryUrl'] },
  invitation: { required: ['link', 'code'], links: ['link'] },
  account_locked: { required: ['minutes', 'recoveryUrl'], links: ['recoveryUrl'] },
  mfa_code: { required: ['code', 'minutes'], links: [] },
  mfa_factor_added: { required: ['securityUrl'], links: ['securityUrl'] },
  mfa_factor_removed: { required: ['securityUrl'], links: ['securityUrl'] },
  mfa_recovery_codes_regenerated: { required: ['securityUrl'], links: ['securityUrl'] },
  recovery_code_used: { required: ['remaining', 'securityUrl'], links: ['securityUrl'] },
};

export class MailError extends Error {
  override name = 'MailError';
}

// Bare addresses only: no display names, lists or line breaks that could alter headers.
const plainAddress = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

function checkedData(template: MailTemplate, data: Record<string, string>): Record<string, string> {
  const fields = mailTemplateFields[template];
  const checked: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    // A mail is stored and sent in clear text; a password must never be one of its values.
    if (/password/i.test(key)) throw new MailError(`mail data must not carry a password (${template}.${key})`);
    if (typeof value !== 'string') throw new MailError(`mail data ${template}.${key} must be a string`);
    // Values are single-line: a name with line breaks must not forge lines in the text part.
    checked[key] = value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  }
  for (const key of fields.required) {
    if (!checked[key]) throw new MailError(`mail template ${template} needs ${key}`);
  }
  for (const key of fields.links) {
    if (!/^https?:\/\//i.test(checked[key]!)) throw new MailError(`mail data ${template}.${key} must be an http(s) URL`);
  }
  return checked;
}

/** Subject, text part and HTML part of a message in the resolved locale. */
export function renderMail(template: MailTemplate, data: Record<string, string>, options: { issuer: string; locale: string; brand?: Brand }): RenderedMail {
  if (!mailTemplates.includes(template)) throw new MailError(`unknown mail template ${String(template)}`);
  const brand = options.brand ?? defaultBrand;
  const values: MailData = { ...checkedData(template, data), brand: brand.name };
  const locale = resolveMailLocale(options.locale, 'en');
  const catalog = catalogs[locale]!;
  const content = catalog.templates[template](values);
  const greeting = catalog.greeting(values.name || undefined);
  const footer = catalog.footer(new URL(options.issuer).host, brand.name);
  const brandLinks = [
    { label: catalog.brandLinks.support, url: brand.supportUrl },
    { label: catalog.brandLinks.privacy, url: brand.privacyUrl },
    { label: catalog.brandLinks.terms, url: brand.termsUrl },
  ].filter((link): link is { label: string; url: string } => Boolean(link.url));

  const text = [
    greeting,
    ...content.paragraphs,
    ...content.links.map((link) => `${link.label}:\n${link.url}`),
    ...(content.code ? [`${content.code.label}: ${content.code.value}`] : []),
    content.closing,
    `-- \n${footer}${brandLinks.map((link) => `\n${link.label}: ${link.url}`).join('')}`,
  ].join('\n\n');
  // The colour is a validated hex value (src/config.ts), so it may stand in an inline style;
  // mail clients drop style sheets.
  const html = renderView('mail/message', {
    locale,
    greeting,
    footer,
    brand,
    brandLinks,
    accent: brand.primaryColor ?? '#1f6feb',
    linkFallback: catalog.linkFallback,
    ...content,
  });
  return { subject: content.subject, text: `${text}\n`, html };
}

/** A message's text and HTML parts as stored in the outbox. */
export function sealMailBody(key: Buffer, mailId: string, body: { text: string; html: string }): string {
  return encrypt(key, JSON.stringify(body), `mail:${mailId}`);
}

/** Opens a sealed body; throws DecryptionError when it was moved to another row or altered. */
export function openMailBody(key: Buffer, mailId: string, sealed: string): { text: string; html: string } {
  const body = JSON.parse(decrypt(key, sealed, `mail:${mailId}`)) as { text: string; html: string };
  return { text: String(body.text), html: String(body.html) };
}

export function createMailer(db: Kysely<Database>, options: MailerOptions): Mailer {
  return {
    async enqueue(message, executor = db) {
      const to = message.to.trim();
      if (!plainAddress.test(to)) throw new MailError('mail recipient is not a plain email address');
      const rendered = renderMail(message.template, message.data, {
        issuer: options.issuer,
        // The account's language, else the language of the page that caused the mail.
        locale: resolveMailLocale(message.locale ?? resolveLanguage(currentLocales()), options.defaultLocale),
        brand: options.brand,
      });
      const id = randomUUID();
      await insertOutboxMail(executor, {
        id,
        recipient: to,
        template: message.template,
        subject: rendered.subject,
        bodyEncrypted: sealMailBody(options.bodyKey, id, { text: rendered.text, html: rendered.html }),
      });
      return id;
    },
  };
}
