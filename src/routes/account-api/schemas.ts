// The Account API's request and answer shapes. Each named schema (`.meta({ id })`) is a
// component of the generated OpenAPI document.
import { z } from 'zod';
import { profilePatchSchema } from '#src/services/account-data.ts';
import type { Account } from '#src/services/accounts.ts';
import { profileClaims } from '#src/services/claims.ts';
import { singleLineText } from '#src/text-input.ts';

const password = z.string().max(4096);
const nullableString = z.string().nullable();

export const profileSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    email_verified: z.boolean(),
    name: nullableString,
    given_name: nullableString,
    family_name: nullableString,
    picture: nullableString,
    locale: nullableString,
    zoneinfo: nullableString,
    phone_number: nullableString,
    phone_number_verified: z.boolean(),
    roles: z.array(z.string()),
    tier: nullableString,
    tenant: nullableString,
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    last_login_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Profile' });

export const profilePatch = profilePatchSchema.meta({ id: 'ProfilePatch' });

export const passwordChangeSchema = z
  .object({
    current_password: password,
    new_password: password,
    keep_other_sessions: z.boolean().optional().describe('Keep the account\'s other sessions and grants (default false).'),
  })
  .strict()
  .meta({ id: 'PasswordChange' });

// The password may be left out right after a sign-in (RECENT_LOGIN_WINDOW), as for deletion.
export const emailChangeSchema = z
  .object({
    email: singleLineText(320),
    password: password.optional().describe('Required unless the token is a first_party client\'s and its session signed in within RECENT_LOGIN_WINDOW seconds.'),
  })
  .strict()
  .meta({ id: 'EmailChange' });
export const emailChangeFlowSchema = z.object({ flow_id: z.uuid(), expires_at: z.iso.datetime() }).meta({ id: 'EmailChangeFlow' });
export const emailVerifySchema = z.object({ flow_id: z.uuid(), code: singleLineText(32) }).strict().meta({ id: 'EmailVerification' });
export const emailChangedSchema = z.object({ email: z.email() }).meta({ id: 'EmailChanged' });

// The password may be left out right after a sign-in (RECENT_LOGIN_WINDOW).
export const accountDeletionSchema = z
  .object({ password: password.optional().describe('Required unless the token is a first_party client\'s and its session signed in within RECENT_LOGIN_WINDOW seconds.') })
  .strict()
  .meta({ id: 'AccountDeletion' });

export const accountExportSchema = z
  .object({
    format: z.literal('keyhold-account-export/1'),
    exportedAt: z.iso.datetime(),
    issuer: z.string(),
    account: z.record(z.string(), z.unknown()).describe('Every stored account field (camelCase), plus active and hasPassword; never the password hash.'),
    passwordHistory: z.array(z.object({ replacedAt: z.date() })),
    secondFactors: z.array(z.record(z.string(), z.unknown())).describe('Kind, phone number (SMS), when added, confirmed and last used; never a secret.'),
    selfServiceFlows: z.array(z.record(z.string(), z.unknown())),
    mails: z.array(z.record(z.string(), z.unknown())),
    auditLog: z.array(z.record(z.string(), z.unknown())),
  })
  .meta({ id: 'AccountExport' });

export function profileOf(account: Account): z.input<typeof profileSchema> {
  return { id: account.id, ...profileClaims(account), created_at: account.createdAt, updated_at: account.updatedAt, last_login_at: account.lastLoginAt };
}
