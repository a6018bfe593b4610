// Every mail in every language: German exists for each template, each names the operator's
// brand and never the vendor, a German account locale (de-AT) picks German, an unknown one
// English.
import test from 'ava';
import { catalogs, mailTemplates } from '#src/mail/messages.ts';
import { brandFrom } from '#src/presentation/brand.ts';
import { mailTemplateFields, renderMail } from '#src/services/mailer.ts';

const brand = brandFrom({ BRAND_NAME: 'Acme Cloud', BRAND_PRIMARY_COLOR: '#0b6e4f', BRAND_SUPPORT_URL: 'https://acme.example/help' });
const sample: Record<string, string> = {
  link: 'https://id.acme.example/l?t=1',
  code: '123456',
  loginUrl: 'https://id.acme.example/',
  recoveryUrl: 'https://id.acme.example/recovery',
  securityUrl: 'https://id.acme.example/account/security',
  newEmail: 'new@example.test',
  minutes: '15',
  remaining: '7',
  kind: 'totp',
  name: 'Ada',
};

const dataFor = (template: (typeof mailTemplates)[number]) =>
  Object.fromEntries([...mailTemplateFields[template].required, 'name'].map((key) => [key, sample[key]!]));

test('German covers every template; every mail names the brand and never "Keyhold"', (t) => {
  t.deepEqual(Object.keys(catalogs).sort(), ['de', 'en']);
  for (const template of mailTemplates) {
    const english = renderMail(template, dataFor(template), { issuer: 'https://id.acme.example', locale: 'en', brand });
    const german = renderMail(template, dataFor(template), { issuer: 'https://id.acme.example', locale: 'de-AT', brand });
    t.not(german.subject, english.subject, template);
    t.regex(german.text, /^Hallo Ada,/, template);
    t.regex(german.html, /<html lang="de">/, template);
    for (const mail of [english, german]) {
      t.false(/keyhold/i.test(mail.subject + mail.text + mail.html), `${template}: Keyhold`);
      t.true((mail.text + mail.subject).includes('Acme Cloud'), `${template}: no brand`);
      t.regex(mail.text, /https:\/\/acme\.example\/help/, template);
    }
  }
});

test('an unknown locale is answered in English; the colour reaches the buttons only as a hex value', (t) => {
  const mail = renderMail('password_reset', dataFor('password_reset'), { issuer: 'https://id.acme.example', locale: 'tlh', brand });
  t.is(mail.subject, 'Reset your Acme Cloud password');
  t.regex(mail.html, /background:#0b6e4f;/);
});
