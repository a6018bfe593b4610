// Every word Keyhold puts in an email, by locale. A catalog turns a template's data into
// plain-text pieces; the mailer renders them as text and as HTML (escaped there), so no
// string here is markup. Another language is one more entry in `catalogs` (`de`, `fr`, …);
// a locale without one, or a missing catalog, falls back to `en`. Subjects hold no data,
// so nothing a user typed ever reaches a mail header.

export const mailTemplates = [
  'verification',
  'registration_duplicate',
  'password_reset',
  'password_changed',
  'email_change_verify',
  'email_change_requested',
  'email_change_notice',
  'email_change_reverted',
  'invitation',
  'account_locked',
  'mfa_code',
  'mfa_factor_added',
  'mfa_factor_removed',
  'mfa_recovery_codes_regenerated',
  'recovery_code_used',
] as const;

export type MailTemplate = (typeof mailTemplates)[number];

export type MailData = Readonly<Record<string, string>>;

export interface MailLink {
  label: string;
  url: string;
}

export interface MailContent {
  subject: string;
  paragraphs: string[];
  /** Rendered as buttons in HTML, with the address spelled out in both parts. */
  links: MailLink[];
  code?: { label: string; value: string };
  /** What to do if the recipient did not ask for this mail. */
  closing: string;
}

export interface MailCatalog {
  greeting(name: string | undefined): string;
  linkFallback: string;
  /** Why the recipient got this mail and from where; `site` is the issuer's host. */
  footer(site: string): string;
  templates: { [T in MailTemplate]: (data: MailData) => MailContent };
}

const factorNames: Readonly<Record<string, string>> = { totp: 'authenticator app', email: 'codes by email', sms: 'codes by text message' };
const factorName = (kind: string | undefined) => factorNames[kind ?? ''] ?? 'second factor';

const en: MailCatalog = {
  greeting: (name) => (name ? `Hello ${name},` : 'Hello,'),
  linkFallback: 'If the button does not work, copy this address into your browser:',
  footer: (site) => `This message was sent by Keyhold at ${site} about an account using this email address.`,
  templates: {
    verification: (data) => ({
      subject: 'Confirm your email address for Keyhold',
      paragraphs: ['Please confirm that this email address belongs to you by opening the link below, or by entering the code where you signed up.'],
      links: [{ label: 'Confirm email address', url: data.link! }],
      code: { label: 'Your code', value: data.code! },
      closing: 'If you did not create a Keyhold account, you can ignore this message.',
    }),
    registration_duplicate: (data) => ({
      subject: 'Someone tried to register with your email address',
      paragraphs: [
        'Someone, perhaps you, tried to create a Keyhold account with this email address. You already have an account, so no new one was created.',
        'You can sign in to your account, or choose a new password if you have forgotten it.',
      ],
      links: [
        { label: 'Sign in', url: data.loginUrl! },
        { label: 'Reset your password', url: data.recoveryUrl! },
      ],
      closing: 'If this was not you, no action is needed: your account has not been changed.',
    }),
    password_reset: (data) => ({
      subject: 'Reset your Keyhold password',
      paragraphs: ['We received a request to reset the password of your Keyhold account. Open the link below to choose a new one.'],
      links: [{ label: 'Choose a new password', url: data.link! }],
      closing: 'If you did not ask for this, ignore this message: your password stays as it is.',
    }),
    account_locked: (data) => ({
      subject: 'Your Keyhold account was locked',
      paragraphs: [
        `Someone entered a wrong password for your Keyhold account several times, so sign-in is locked for ${data.minutes} minutes. Your password was not changed and nobody signed in.`,
        'If this was you, wait and try again later, or choose a new password with the link below.',
      ],
      links: [{ label: 'Reset your password', url: data.recoveryUrl! }],
      closing: 'If this was not you, someone may be guessing your password: resetting it is a good idea.',
    }),
    password_changed: (data) => ({
      subject: 'Your Keyhold password was changed',
      paragraphs: ['The password of your Keyhold account has just been changed. If you did this, no action is needed.'],
      links: [{ label: 'Secure your account', url: data.recoveryUrl! }],
      closing: 'If you did not change it, reset your password now with the link above.',
    }),
    email_change_verify: (data) => ({
      subject: 'Confirm your new email address for Keyhold',
      paragraphs: ['You asked to use this email address for your Keyhold account. Confirm it by opening the link below, or by entering the code.'],
      links: [{ label: 'Confirm new email address', url: data.link! }],
      code: { label: 'Your code', value: data.code! },
      closing: 'If you did not ask for this, ignore this message: nothing will change.',
    }),
    email_change_requested: (data) => ({
      subject: 'A change of your Keyhold email address was requested',
      paragraphs: [
        `A change of your Keyhold account's email address to ${data.newEmail!} was requested. The change takes effect once the new address is confirmed.`,
        'If you did not ask for this, cancel the change with the link below. Whoever asked knew your password or was signed in to your account: change your password too.',
      ],
      links: [{ label: 'Cancel the change', url: data.link! }],
      closing: 'If you asked for this change, no action is needed.',
    }),
    email_change_notice: (data) => ({
      subject: 'The email address of your Keyhold account was changed',
      paragraphs: [
        `The email address of your Keyhold account was changed to ${data.newEmail!}. Mail about the account now goes there.`,
        'If you did not do this, undo it with the link below: this address comes back, you are signed out everywhere, and you choose a new password.',
      ],
      links: [{ label: 'Undo the change', url: data.link! }],
      closing: 'If you made this change, no action is needed.',
    }),
    email_change_reverted: (data) => ({
      subject: 'The email address of your Keyhold account was restored',
      paragraphs: [
        'The change of your Keyhold account\'s email address was undone: the account uses this address again. Every session was ended and the password was removed, since whoever made the change knew it.',
        'Choose a new password to sign in again.',
      ],
      links: [{ label: 'Choose a new password', url: data.recoveryUrl! }],
      closing: 'If you did not undo the change, choose a new password now.',
    }),
    mfa_code: (data) => ({
      subject: 'Your Keyhold sign-in code',
      paragraphs: [`Enter this code to finish signing in. It expires in ${data.minutes!} minutes.`],
      links: [],
      code: { label: 'Your code', value: data.code! },
      closing: 'If you are not signing in right now, someone knows your password: change it at once.',
    }),
    mfa_factor_added: (data) => ({
      subject: 'A second factor was added to your Keyhold account',
      paragraphs: [`A second factor (${factorName(data.kind)}) was added to your Keyhold account.`],
      links: [{ label: 'Review your security settings', url: data.securityUrl! }],
      closing: 'If you did not add it, reset your password and remove it now.',
    }),
    mfa_factor_removed: (data) => ({
      subject: 'A second factor was removed from your Keyhold account',
      paragraphs: [`A second factor (${factorName(data.kind)}) was removed from your Keyhold account.`],
      links: [{ label: 'Review your security settings', url: data.securityUrl! }],
      closing: 'If you did not remove it, reset your password and review your second factors now.',
    }),
    mfa_recovery_codes_regenerated: (data) => ({
      subject: 'New recovery codes were created for your Keyhold account',
      paragraphs: ['New recovery codes were created for your Keyhold account; the old ones no longer work.'],
      links: [{ label: 'Review your security settings', url: data.securityUrl! }],
      closing: 'If you did not create them, reset your password and review your second factors now.',
    }),
    recovery_code_used: (data) => ({
      subject: 'A recovery code was used to sign in to Keyhold',
      paragraphs: [`Someone signed in to your Keyhold account with one of its recovery codes. ${data.remaining!} unused codes are left.`],
      links: [{ label: 'Review your security settings', url: data.securityUrl! }],
      closing: 'If this was not you, reset your password and create new recovery codes now.',
    }),
    invitation: (data) => ({
      subject: 'You are invited to Keyhold',
      paragraphs: ['You have been invited to create an account on Keyhold. Open the link below to accept, or enter the code where you were asked to.'],
      links: [{ label: 'Accept invitation', url: data.link! }],
      code: { label: 'Your invitation code', value: data.code! },
      closing: 'If you were not expecting this invitation, you can ignore this message.',
    }),
  },
};

export const catalogs: Readonly<Record<string, MailCatalog>> = { en };

/**
 * The catalog for a BCP 47 locale: an exact match, then its language (`de-CH` → `de`),
 * then the fallback locale, then English.
 */
export function resolveMailLocale(locale: string | undefined, fallback: string): string {
  for (const candidate of [locale, locale?.split('-')[0], fallback, fallback.split('-')[0]]) {
    const key = candidate?.toLowerCase();
    if (key && Object.hasOwn(catalogs, key)) return key;
  }
  return 'en';
}
