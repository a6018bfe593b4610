// `keyhold help`: every command and its options.
export const usage = `Usage: keyhold <command> [options]

Commands:
  init [--email E] [--password P]       quickstart: a demo user, an SPA client (demo-spa) on
      [--spa-origin URL] [--api URI]    http://localhost:5173, an API (http://localhost:4000)
                                        and a service client (demo-service); safe to run again
  migrate                               apply pending database migrations
  user create --email E --password P    create an account (--password-stdin reads the
      [--name N] [--role R]... [--tier T] [--tenant T] [--verified]
                                        password from standard input instead)
  user list [--email E] [--name N] [--role R] [--tier T] [--tenant T] [--active true|false]
      [--cursor C] [--limit N]          find accounts (parts of email/name match)
  user show --email E | --id ID         one account
  user update --email E | --id ID [--name N] [--role R]... [--tier T] [--tenant T]
      [--active true|false]             change an account; any --role replaces its roles
                                        (--role "" removes them all), "" clears name/tier,
                                        --tenant "" means default; --active false also
                                        ends its sessions and tokens
  user delete --email E | --id ID       erase an account (its sessions and tokens end)
  user logout --email E | --id ID       end every session, grant and token of an account
  user password-reset --email E | --id ID
                                        mail the account a password reset link
  user import --file PATH               import accounts from JSON lines (--file - reads stdin),
                                        one {"email", "password_hash", "name", "email_verified",
                                        "roles", "tier", "tenant"} per line; password_hash is
                                        bcrypt or argon2id; existing emails and invalid lines
                                        are skipped and listed with their line numbers
  user unlock --email E                 lift a sign-in lockout (LOCKOUT_THRESHOLD failures)
  client create --metadata JSON [--tenant T]
                                        register a client (RFC 7591 metadata); a missing
                                        client_id/client_secret is generated and printed once
                                        its "scope" is its allow-list, API scopes included
  client list [--tenant T] [--cursor C] [--limit N]
  client show --id CLIENT_ID            a client's metadata (never its secret)
  client update --id CLIENT_ID [--metadata JSON] [--first-party true|false] [--tenant T]
                                        replace metadata properties (null removes one)
  client delete --id CLIENT_ID          remove a client
  client rotate-secret --id CLIENT_ID   a new secret, printed once; the old one stops working
  client initial-token [--ttl SECONDS]  an initial access token for dynamic client registration
                                        (DYNAMIC_REGISTRATION=true), valid 86400 s by default
  role create --name R [--description D]
                                        define a role (accounts get DEFAULT_ROLES, default user)
  role grant --name R --resource URI --scopes "a:read a:write"
                                        let accounts with role R get these scopes of an API
                                        (clients also need them in their scope metadata)
  role set-grants --name R --grants '{"URI": ["a:read"]}'
                                        replace everything role R grants
  role list [--cursor C] [--limit N] | role show --name R
  role update --name R --description D | role delete --name R
  resource create --identifier URI --scopes "a:read a:write" [--access-token-ttl SECONDS]
                                        register an API resource (RFC 8707)
  resource list [--cursor C] [--limit N] | resource show --identifier URI
  resource update --identifier URI [--scopes "a:read"] [--access-token-ttl SECONDS|""]
                                        replace its scopes (grants of removed ones go)
  resource delete --identifier URI      remove an API resource and its role grants
  tenant create --id T [--name N] [--registration open|invite|closed]
      [--mfa-required-tiers "pro team"] create a tenant with its overrides
  tenant list | tenant show --id T | tenant delete --id T (only when empty)
  tenant update --id T [--name N] [--registration MODE|""] [--mfa-required-tiers "..."|""]
                                        "" sets an override back to the node setting
  audit list [--action A] [--subject ID] [--actor WHO] [--since TIME] [--until TIME]
      [--cursor C] [--limit N]          the audit log, newest first
  invite create --email E               invite someone to register (REGISTRATION=invite): mails
                                        them an invitation code and prints it
  connector create --metadata JSON      add an upstream identity provider: {"id", "type" (oidc,
                                        google, microsoft, apple, github, facebook), "name",
                                        "client_id", "client_secret" (apple: "team_id", "key_id",
                                        "private_key"), "issuer" (oidc), "scope",
                                        "trust_upstream_mfa"}; prints the redirect_uri to
                                        register upstream (the secret is stored sealed)
  connector update --id ID --metadata JSON
                                        change name, client_id, client_secret (apple: team_id,
                                        key_id, private_key), scope, trust_upstream_mfa
  connector list                        list connectors (without secrets)
  connector delete --id ID              remove a connector and the identities linked through it
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
