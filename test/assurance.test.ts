// The assurance policy's rules, as properties over any set of verifications and requests.
import test from 'ava';
import fc from 'fast-check';
import { ACR, achievedLevel, acrOf, amrOf, atLeast, levelOfAcr, missingStep, PAPE_MULTI_FACTOR, requiredLevel, type AssuranceLevel } from '#src/services/authentication/assurance.ts';
import type { Verification } from '#src/services/authentication/types.ts';

const verification = fc.record({
  method: fc.constantFrom('password', 'totp', 'recovery-code', 'email-otp', 'webauthn', 'federated'),
  amr: fc.array(fc.constantFrom('pwd', 'otp', 'sms', 'hwk', 'swk', 'user', 'fed'), { maxLength: 3 }),
  factor: fc.constantFrom('knowledge', 'possession', 'inherence', 'federated' as const),
  phishingResistant: fc.boolean(),
  at: fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
}) as fc.Arbitrary<Verification>;
const levels: AssuranceLevel[] = ['password', 'mfa', 'phr'];
const level = fc.constantFrom(...levels);

const pwd: Verification = { method: 'password', amr: ['pwd'], factor: 'knowledge', phishingResistant: false, at: 1_800_000_000 };
const totp: Verification = { method: 'totp', amr: ['otp'], factor: 'possession', phishingResistant: false, at: 1_800_000_010 };
const passkey: Verification = { method: 'webauthn', amr: ['hwk', 'user'], factor: 'possession', phishingResistant: true, at: 1_800_000_020 };

test('a password alone is the password level; password and a one-time code are mfa; a passkey is phr', (t) => {
  t.is(acrOf([pwd]), ACR.password);
  t.deepEqual(amrOf([pwd]), ['pwd']);
  t.is(acrOf([pwd, totp]), ACR.mfa);
  t.deepEqual(amrOf([pwd, totp]).sort(), ['mfa', 'otp', 'pwd']);
  t.is(acrOf([passkey]), ACR.phr);
  t.is(acrOf([]), undefined);
});

test('two verifications of one factor kind are not multi-factor', (t) => {
  const emailCode: Verification = { ...totp, method: 'email-otp' };
  t.is(achievedLevel([totp, emailCode]), 'password');
  t.false(amrOf([totp, emailCode]).includes('mfa'));
});

test('the PAPE multi-factor URI is an alias of mfa; unknown acr values are ignored', (t) => {
  t.is(levelOfAcr(PAPE_MULTI_FACTOR), 'mfa');
  t.is(levelOfAcr('urn:example:unknown'), undefined);
  t.is(requiredLevel({ acrValues: ['urn:example:unknown'] }), 'password');
  t.is(requiredLevel({ acrValues: [PAPE_MULTI_FACTOR] }), 'mfa');
});

test('property: mfa appears in amr exactly when two or more factor kinds were used', (t) => {
  fc.assert(
    fc.property(fc.array(verification, { maxLength: 5 }), (verifications) => {
      const kinds = new Set(verifications.map((entry) => entry.factor)).size;
      return amrOf(verifications).includes('mfa') === kinds >= 2;
    }),
  );
  t.pass();
});

test('property: amr holds every method amr and nothing else but mfa', (t) => {
  fc.assert(
    fc.property(fc.array(verification, { maxLength: 5 }), (verifications) => {
      const amr = amrOf(verifications);
      const expected = new Set(verifications.flatMap((entry) => entry.amr));
      return amr.every((value) => expected.has(value) || value === 'mfa') && [...expected].every((value) => amr.includes(value));
    }),
  );
  t.pass();
});

test('property: adding a verification never lowers the level achieved', (t) => {
  fc.assert(
    fc.property(fc.array(verification, { minLength: 1, maxLength: 4 }), verification, (verifications, extra) => {
      const before = achievedLevel(verifications)!;
      const after = achievedLevel([...verifications, extra])!;
      return atLeast(after, before);
    }),
  );
  t.pass();
});

test('property: policy can only raise the required level, never lower what the client asked', (t) => {
  fc.assert(
    fc.property(fc.array(level, { maxLength: 3 }), fc.option(level, { nil: undefined }), (asked, policy) => {
      const acrValues = asked.map((entry) => ACR[entry]);
      const withoutPolicy = requiredLevel({ acrValues });
      const withPolicy = requiredLevel({ acrValues, policyMinimum: policy });
      return atLeast(withPolicy, withoutPolicy) && (policy === undefined || atLeast(withPolicy, policy));
    }),
  );
  t.pass();
});

test('property: nothing is missing exactly when the achieved level reaches the required one', (t) => {
  fc.assert(
    fc.property(fc.array(verification, { maxLength: 4 }), level, (verifications, required) => {
      const missing = missingStep(verifications, required);
      if (verifications.length === 0) return missing === 'first_factor';
      return (missing === 'none') === atLeast(achievedLevel(verifications)!, required);
    }),
  );
  t.pass();
});
