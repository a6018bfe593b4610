// What the consent page says for each scope and each claim asked for one by one.

export const scopeDescriptions: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name and profile',
  email: 'See your email address',
  address: 'See your address',
  phone: 'See your phone number',
  offline_access: 'Stay signed in when you are not using it',
  roles: 'See your roles, tier and organisation',
};

// Claims a client may ask for one by one with the `claims` parameter (OIDC Core 5.5).
export const claimDescriptions: Record<string, string> = {
  name: 'Your name',
  given_name: 'Your given name',
  family_name: 'Your family name',
  middle_name: 'Your middle name',
  nickname: 'Your nickname',
  preferred_username: 'Your preferred username',
  profile: 'Your profile page',
  picture: 'Your picture',
  website: 'Your website',
  gender: 'Your gender',
  birthdate: 'Your birthdate',
  zoneinfo: 'Your time zone',
  locale: 'Your language and region',
  updated_at: 'When your profile last changed',
  email: 'Your email address',
  email_verified: 'Whether your email address is verified',
  address: 'Your address',
  phone_number: 'Your phone number',
  phone_number_verified: 'Whether your phone number is verified',
  roles: 'Your roles',
  tier: 'Your tier',
  tenant: 'Your organisation',
};
