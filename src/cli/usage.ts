// `keyhold help`: every command and its options.
export const usage = `Usage: keyhold <command> [options]

Commands:
  migrate                               apply pending database migrations
  user create --email E --password P    create an account
      [--name N] [--role R]... [--tier T] [--tenant T] [--verified]
  user update --email E [--role R]... [--tier T] [--tenant T] [--active true|false]
                                        change an account; any --role replaces its roles
                                        (--role "" removes them all), "" clears tier/tenant
  user import --file PATH               import accounts from JSON lines (--file - reads stdin),
                                        one {"email", "password_hash", "name", "email_verified",
                                        "roles", "tier", "tenant"} per line; password_hash is
                                        bcrypt or argon2id; existing emails and invalid lines
                                        are skipped and listed with their line numbers
  user unlock --email E                 lift a sign-in lockout (LOCKOUT_THRESHOLD failures)
  client create --metadata JSON         register a client (RFC 7591 metadata); a missing
                                        client_id/client_secret is generated and printed once
                                        its "scope" is its allow-list, API scopes included
  role create --name R [--description D]
                                        define a role (accounts get DEFAULT_ROLES, default user)
  role grant --name R --resource URI --scopes "a:read a:write"
                                        let accounts with role R get these scopes of an API
                                        (clients also need them in their scope metadata)
  resource create --identifier URI --scopes "a:read a:write" [--access-token-ttl SECONDS]
                                        register an API resource (RFC 8707)
  invite create --email E               invite someone to register (REGISTRATION=invite): mails
                                        them an invitation code and prints it
  keys list                             list signing keys and their stages
  keys rotate [--alg ALG]               publish new signing keys; the current ones retire
                                        when the new ones start signing
  keys retire KID                       retire one signing key now
  webhook create --url URL [--events "auth.login.failed auth.user_locked"]
                                        send events to URL (all types when --events is absent);
                                        prints { id, secret }: the signing secret, shown once
  webhook list                          list webhooks (without secrets)
  webhook delete --id ID                stop sending to a webhook
  help                                  show this text

Configuration comes from the environment, as for the server (DATABASE_URL, DATA_DIR,
KEYHOLD_SECRET, ...). Success prints one JSON document on stdout; failure prints one
line on stderr and exits 1 (request failed) or 2 (bad command line).
`;
