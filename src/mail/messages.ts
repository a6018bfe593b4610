// Every word Keyhold puts in an email, by locale. A catalog turns a template's data into
// plain-text pieces; the mailer renders them as text and as HTML (escaped there), so no
// string here is markup. Another language is one more entry in `catalogs` (`de`, `fr`, …);
// a locale without one, or a missing catalog, falls back to `en`. Subjects hold no data but
// the operator's BRAND_NAME (one line, checked by src/config.ts), so nothing a user typed
// ever reaches a mail header.

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

/** A template's values; `brand` is always the operator's BRAND_NAME. */
export type MailData = Readonly<Record<string, string>> & { readonly brand: string };

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
  /** Why the recipient got this mail and from where; `site` is the issuer's host, `brand` the operator's BRAND_NAME. */
  footer(site: string, brand: string): string;
  /** Labels of the brand's links (BRAND_SUPPORT_URL, …) under each mail. */
  brandLinks: { support: string; privacy: string; terms: string };
  templates: { [T in MailTemplate]: (data: MailData) => MailContent };
}

const factorNames: Readonly<Record<string, string>> = { totp: 'authenticator app', email: 'codes by email', sms: 'codes by text message' };
const factorName = (kind: string | undefined) => factorNames[kind ?? ''] ?? 'second factor';

const en: MailCatalog = {
  greeting: (name) => (name ? `Hello ${name},` : 'Hello,'),
  linkFallback: 'If the button does not work, copy this address into your browser:',
  brandLinks: { support: 'Help', privacy: 'Privacy', terms: 'Terms' },
  footer: (site, brand) => `This message was sent by ${brand} at ${site} about an account using this email address.`,
  templates: {
    verification: (data) => ({
      subject: `Confirm your email address for ${data.brand}`,
      paragraphs: ['Please confirm that this email address belongs to you by opening the link below, or by entering the code where you signed up.'],
      links: [{ label: 'Confirm email address', url: data.link! }],
      code: { label: 'Your code', value: data.code! },
      closing: `If you did not create a ${data.brand} account, you can ignore this message.`,
    }),
    registration_duplicate: (data) => ({
      subject: 'Someone tried to register with your email address',
      paragraphs: [
        `Someone, perhaps you, tried to create a ${data.brand} account with this email address. You already have an account, so no new one was created.`,
        'You can sign in to your account, or choose a new password if you have forgotten it.',
      ],
      links: [
        { label: 'Sign in', url: data.loginUrl! },
        { label: 'Reset your password', url: data.recoveryUrl! },
      ],
      closing: 'If this was not you, no action is needed: your account has not been changed.',
    }),
    password_reset: (data) => ({
      subject: `Reset your ${data.brand} password`,
      paragraphs: [`We received a request to reset the password of your ${data.brand} account. Open the link below to choose a new one.`],
      links: [{ label: 'Choose a new password', url: data.link! }],
      closing: 'If you did not ask for this, ignore this message: your password stays as it is.',
    }),
    account_locked: (data) => ({
      subject: `Your ${data.brand} account was locked`,
      paragraphs: [
        `Someone entered a wrong password for your ${data.brand} account several times, so sign-in is locked for ${data.minutes} minutes. Your password was not changed and nobody signed in.`,
        'If this was you, wait and try again later, or choose a new password with the link below.',
      ],
      links: [{ label: 'Reset your password', url: data.recoveryUrl! }],
      closing: 'If this was not you, someone may be guessing your password: resetting it is a good idea.',
    }),
    password_changed: (data) => ({
      subject: `Your ${data.brand} password was changed`,
      paragraphs: [`The password of your ${data.brand} account has just been changed. If you did this, no action is needed.`],
      links: [{ label: 'Secure your account', url: data.recoveryUrl! }],
      closing: 'If you did not change it, reset your password now with the link above.',
    }),
    email_change_verify: (data) => ({
      subject: `Confirm your new email address for ${data.brand}`,
      paragraphs: [`You asked to use this email address for your ${data.brand} account. Confirm it by opening the link below, or by entering the code.`],
      links: [{ label: 'Confirm new email address', url: data.link! }],
      code: { label: 'Your code', value: data.code! },
      closing: 'If you did not ask for this, ignore this message: nothing will change.',
    }),
    email_change_requested: (data) => ({
      subject: `A change of your ${data.brand} email address was requested`,
      paragraphs: [
        `A change of your ${data.brand} account's email address to ${data.newEmail!} was requested. The change takes effect once the new address is confirmed.`,
        'If you did not ask for this, cancel the change with the link below. Whoever asked knew your password or was signed in to your account: change your password too.',
      ],
      links: [{ label: 'Cancel the change', url: data.link! }],
      closing: 'If you asked for this change, no action is needed.',
    }),
    email_change_notice: (data) => ({
      subject: `The email address of your ${data.brand} account was changed`,
      paragraphs: [
        `The email address of your ${data.brand} account was changed to ${data.newEmail!}. Mail about the account now goes there.`,
        'If you did not do this, undo it with the link below: this address comes back, you are signed out everywhere, and you choose a new password.',
      ],
      links: [{ label: 'Undo the change', url: data.link! }],
      closing: 'If you made this change, no action is needed.',
    }),
    email_change_reverted: (data) => ({
      subject: `The email address of your ${data.brand} account was restored`,
      paragraphs: [
        `The change of your ${data.brand} account's email address was undone: the account uses this address again. Every session was ended and the password was removed, since whoever made the change knew it.`,
        'Choose a new password to sign in again.',
      ],
      links: [{ label: 'Choose a new password', url: data.recoveryUrl! }],
      closing: 'If you did not undo the change, choose a new password now.',
    }),
    mfa_code: (data) => ({
      subject: `Your ${data.brand} sign-in code`,
      paragraphs: [`Enter this code to finish signing in. It expires in ${data.minutes!} minutes.`],
      links: [],
      code: { label: 'Your code', value: data.code! },
      closing: 'If you are not signing in right now, someone knows your password: change it at once.',
    }),
    mfa_factor_added: (data) => ({
      subject: `A second factor was added to your ${data.brand} account`,
      paragraphs: [`A second factor (${factorName(data.kind)}) was added to your ${data.brand} account.`],
      links: [{ label: 'Review your security settings', url: data.securityUrl! }],
      closing: 'If you did not add it, reset your password and remove it now.',
    }),
    mfa_factor_removed: (data) => ({
      subject: `A second factor was removed from your ${data.brand} account`,
      paragraphs: [`A second factor (${factorName(data.kind)}) was removed from your ${data.brand} account.`],
      links: [{ label: 'Review your security settings', url: data.securityUrl! }],
      closing: 'If you did not remove it, reset your password and review your second factors now.',
    }),
    mfa_recovery_codes_regenerated: (data) => ({
      subject: `New recovery codes were created for your ${data.brand} account`,
      paragraphs: [`New recovery codes were created for your ${data.brand} account; the old ones no longer work.`],
      links: [{ label: 'Review your security settings', url: data.securityUrl! }],
      closing: 'If you did not create them, reset your password and review your second factors now.',
    }),
    recovery_code_used: (data) => ({
      subject: `A recovery code was used to sign in to ${data.brand}`,
      paragraphs: [`Someone signed in to your ${data.brand} account with one of its recovery codes. ${data.remaining!} unused codes are left.`],
      links: [{ label: 'Review your security settings', url: data.securityUrl! }],
      closing: 'If this was not you, reset your password and create new recovery codes now.',
    }),
    invitation: (data) => ({
      subject: `You are invited to ${data.brand}`,
      paragraphs: [`You have been invited to create an account on ${data.brand}. Open the link below to accept, or enter the code where you were asked to.`],
      links: [{ label: 'Accept invitation', url: data.link! }],
      code: { label: 'Your invitation code', value: data.code! },
      closing: 'If you were not expecting this invitation, you can ignore this message.',
    }),
  },
};

const germanFactorNames: Readonly<Record<string, string>> = { totp: 'Authenticator-App', email: 'Codes per E-Mail', sms: 'Codes per SMS' };
const germanFactorName = (kind: string | undefined) => germanFactorNames[kind ?? ''] ?? 'zweiter Faktor';

const de: MailCatalog = {
  greeting: (name) => (name ? `Hallo ${name},` : 'Hallo,'),
  linkFallback: 'Falls die Schaltfläche nicht funktioniert, kopieren Sie diese Adresse in Ihren Browser:',
  brandLinks: { support: 'Hilfe', privacy: 'Datenschutz', terms: 'Nutzungsbedingungen' },
  footer: (site, brand) => `Diese Nachricht wurde von ${brand} unter ${site} zu einem Konto mit dieser E-Mail-Adresse gesendet.`,
  templates: {
    verification: (data) => ({
      subject: `Bestätigen Sie Ihre E-Mail-Adresse für ${data.brand}`,
      paragraphs: ['Bitte bestätigen Sie, dass diese E-Mail-Adresse Ihnen gehört: Öffnen Sie den Link unten oder geben Sie den Code dort ein, wo Sie sich registriert haben.'],
      links: [{ label: 'E-Mail-Adresse bestätigen', url: data.link! }],
      code: { label: 'Ihr Code', value: data.code! },
      closing: `Falls Sie kein ${data.brand}-Konto erstellt haben, können Sie diese Nachricht ignorieren.`,
    }),
    registration_duplicate: (data) => ({
      subject: 'Jemand hat versucht, sich mit Ihrer E-Mail-Adresse zu registrieren',
      paragraphs: [
        `Jemand, vielleicht Sie, hat versucht, mit dieser E-Mail-Adresse ein ${data.brand}-Konto zu erstellen. Sie haben bereits ein Konto, daher wurde kein neues angelegt.`,
        'Sie können sich bei Ihrem Konto anmelden oder ein neues Passwort wählen, falls Sie es vergessen haben.',
      ],
      links: [
        { label: 'Anmelden', url: data.loginUrl! },
        { label: 'Passwort zurücksetzen', url: data.recoveryUrl! },
      ],
      closing: 'Falls Sie das nicht waren, müssen Sie nichts tun: Ihr Konto wurde nicht verändert.',
    }),
    password_reset: (data) => ({
      subject: `Ihr ${data.brand}-Passwort zurücksetzen`,
      paragraphs: [`Wir haben eine Anfrage erhalten, das Passwort Ihres ${data.brand}-Kontos zurückzusetzen. Öffnen Sie den Link unten, um ein neues zu wählen.`],
      links: [{ label: 'Neues Passwort wählen', url: data.link! }],
      closing: 'Falls Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Ihr Passwort bleibt, wie es ist.',
    }),
    account_locked: (data) => ({
      subject: `Ihr ${data.brand}-Konto wurde gesperrt`,
      paragraphs: [
        `Jemand hat mehrmals ein falsches Passwort für Ihr ${data.brand}-Konto eingegeben, daher ist die Anmeldung für ${data.minutes} Minuten gesperrt. Ihr Passwort wurde nicht geändert, und niemand hat sich angemeldet.`,
        'Falls Sie das waren, warten Sie und versuchen Sie es später erneut, oder wählen Sie mit dem Link unten ein neues Passwort.',
      ],
      links: [{ label: 'Passwort zurücksetzen', url: data.recoveryUrl! }],
      closing: 'Falls Sie das nicht waren, versucht vielleicht jemand, Ihr Passwort zu erraten: Es zurückzusetzen ist eine gute Idee.',
    }),
    password_changed: (data) => ({
      subject: `Ihr ${data.brand}-Passwort wurde geändert`,
      paragraphs: [`Das Passwort Ihres ${data.brand}-Kontos wurde soeben geändert. Falls Sie das waren, müssen Sie nichts tun.`],
      links: [{ label: 'Konto absichern', url: data.recoveryUrl! }],
      closing: 'Falls Sie es nicht geändert haben, setzen Sie Ihr Passwort jetzt mit dem Link oben zurück.',
    }),
    email_change_verify: (data) => ({
      subject: `Bestätigen Sie Ihre neue E-Mail-Adresse für ${data.brand}`,
      paragraphs: [`Sie möchten diese E-Mail-Adresse für Ihr ${data.brand}-Konto verwenden. Bestätigen Sie sie über den Link unten oder mit dem Code.`],
      links: [{ label: 'Neue E-Mail-Adresse bestätigen', url: data.link! }],
      code: { label: 'Ihr Code', value: data.code! },
      closing: 'Falls Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Es ändert sich nichts.',
    }),
    email_change_requested: (data) => ({
      subject: `Eine Änderung Ihrer ${data.brand}-E-Mail-Adresse wurde angefordert`,
      paragraphs: [
        `Die E-Mail-Adresse Ihres ${data.brand}-Kontos soll auf ${data.newEmail!} geändert werden. Die Änderung gilt, sobald die neue Adresse bestätigt ist.`,
        'Falls Sie das nicht angefordert haben, brechen Sie die Änderung mit dem Link unten ab. Wer sie angefordert hat, kannte Ihr Passwort oder war in Ihrem Konto angemeldet: Ändern Sie auch Ihr Passwort.',
      ],
      links: [{ label: 'Änderung abbrechen', url: data.link! }],
      closing: 'Falls Sie diese Änderung angefordert haben, müssen Sie nichts tun.',
    }),
    email_change_notice: (data) => ({
      subject: `Die E-Mail-Adresse Ihres ${data.brand}-Kontos wurde geändert`,
      paragraphs: [
        `Die E-Mail-Adresse Ihres ${data.brand}-Kontos wurde auf ${data.newEmail!} geändert. E-Mails zum Konto gehen jetzt dorthin.`,
        'Falls Sie das nicht waren, machen Sie es mit dem Link unten rückgängig: Diese Adresse kommt zurück, Sie werden überall abgemeldet und wählen ein neues Passwort.',
      ],
      links: [{ label: 'Änderung rückgängig machen', url: data.link! }],
      closing: 'Falls Sie diese Änderung vorgenommen haben, müssen Sie nichts tun.',
    }),
    email_change_reverted: (data) => ({
      subject: `Die E-Mail-Adresse Ihres ${data.brand}-Kontos wurde wiederhergestellt`,
      paragraphs: [
        `Die Änderung der E-Mail-Adresse Ihres ${data.brand}-Kontos wurde rückgängig gemacht: Das Konto verwendet wieder diese Adresse. Alle Sitzungen wurden beendet und das Passwort entfernt, da es der Person bekannt war, die die Änderung vorgenommen hat.`,
        'Wählen Sie ein neues Passwort, um sich wieder anzumelden.',
      ],
      links: [{ label: 'Neues Passwort wählen', url: data.recoveryUrl! }],
      closing: 'Falls Sie die Änderung nicht rückgängig gemacht haben, wählen Sie jetzt ein neues Passwort.',
    }),
    mfa_code: (data) => ({
      subject: `Ihr ${data.brand}-Anmeldecode`,
      paragraphs: [`Geben Sie diesen Code ein, um die Anmeldung abzuschließen. Er läuft in ${data.minutes!} Minuten ab.`],
      links: [],
      code: { label: 'Ihr Code', value: data.code! },
      closing: 'Falls Sie sich gerade nicht anmelden, kennt jemand Ihr Passwort: Ändern Sie es sofort.',
    }),
    mfa_factor_added: (data) => ({
      subject: `Ihrem ${data.brand}-Konto wurde ein zweiter Faktor hinzugefügt`,
      paragraphs: [`Ihrem ${data.brand}-Konto wurde ein zweiter Faktor (${germanFactorName(data.kind)}) hinzugefügt.`],
      links: [{ label: 'Sicherheitseinstellungen prüfen', url: data.securityUrl! }],
      closing: 'Falls Sie ihn nicht hinzugefügt haben, setzen Sie Ihr Passwort zurück und entfernen Sie ihn jetzt.',
    }),
    mfa_factor_removed: (data) => ({
      subject: `Aus Ihrem ${data.brand}-Konto wurde ein zweiter Faktor entfernt`,
      paragraphs: [`Aus Ihrem ${data.brand}-Konto wurde ein zweiter Faktor (${germanFactorName(data.kind)}) entfernt.`],
      links: [{ label: 'Sicherheitseinstellungen prüfen', url: data.securityUrl! }],
      closing: 'Falls Sie ihn nicht entfernt haben, setzen Sie Ihr Passwort zurück und prüfen Sie jetzt Ihre zweiten Faktoren.',
    }),
    mfa_recovery_codes_regenerated: (data) => ({
      subject: `Für Ihr ${data.brand}-Konto wurden neue Wiederherstellungscodes erstellt`,
      paragraphs: [`Für Ihr ${data.brand}-Konto wurden neue Wiederherstellungscodes erstellt; die alten funktionieren nicht mehr.`],
      links: [{ label: 'Sicherheitseinstellungen prüfen', url: data.securityUrl! }],
      closing: 'Falls Sie sie nicht erstellt haben, setzen Sie Ihr Passwort zurück und prüfen Sie jetzt Ihre zweiten Faktoren.',
    }),
    recovery_code_used: (data) => ({
      subject: `Bei ${data.brand} wurde mit einem Wiederherstellungscode angemeldet`,
      paragraphs: [`Jemand hat sich mit einem der Wiederherstellungscodes bei Ihrem ${data.brand}-Konto angemeldet. Es sind noch ${data.remaining!} unbenutzte Codes übrig.`],
      links: [{ label: 'Sicherheitseinstellungen prüfen', url: data.securityUrl! }],
      closing: 'Falls Sie das nicht waren, setzen Sie Ihr Passwort zurück und erstellen Sie jetzt neue Wiederherstellungscodes.',
    }),
    invitation: (data) => ({
      subject: `Sie sind zu ${data.brand} eingeladen`,
      paragraphs: [`Sie wurden eingeladen, ein Konto bei ${data.brand} zu erstellen. Öffnen Sie den Link unten, um anzunehmen, oder geben Sie den Code dort ein, wo Sie danach gefragt werden.`],
      links: [{ label: 'Einladung annehmen', url: data.link! }],
      code: { label: 'Ihr Einladungscode', value: data.code! },
      closing: 'Falls Sie diese Einladung nicht erwartet haben, können Sie diese Nachricht ignorieren.',
    }),
  },
};

export const catalogs: Readonly<Record<string, MailCatalog>> = { en, de };

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
