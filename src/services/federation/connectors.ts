// Connectors: the upstream identity providers people may sign in with. The operator adds
// one with its type, a display name and the client credentials registered upstream; the
// answer names the redirect URI to register there (`<ISSUER>/connect/<id>/callback`).
// Secrets are sealed at rest and never shown again; a listing shows everything else.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { decrypt, encrypt } from '#src/crypto.ts';
import { KeyholdError } from '#src/errors.ts';
import { CONNECTOR_TYPES, defaultScope, fixedIssuer, type ConnectorType } from '#src/services/federation/connector-types.ts';
import { assertUpstreamUrl } from '#src/services/federation/upstream-url.ts';
import { loadPage, type Page, type PageRequest } from '#src/services/admin/page.ts';
import { deleteConnectorRow, findConnectorRow, insertConnectorRow, listConnectorRowPage, listConnectorRows, updateConnectorRow, type ConnectorRow } from '#src/stores/connector-store.ts';
import type { Database } from '#src/stores/schema.ts';
import { singleLineText } from '#src/text-input.ts';

/** A new connector's metadata (CLI `--metadata`, Admin API body): the one set of rules. */
export const connectorMetadataSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/),
    type: z.enum(CONNECTOR_TYPES),
    name: singleLineText(100).pipe(z.string().trim().min(1)),
    client_id: singleLineText(512).pipe(z.string().min(1)),
    client_secret: singleLineText(4096).pipe(z.string().min(1)).optional(),
    issuer: z.string().max(2048).optional(),
    scope: singleLineText(1000).optional(),
    // GitHub Enterprise Server: its web address (https://github.example.com).
    base_url: z.string().max(2048).optional(),
    // Microsoft: the directory (tenant id, or common / organizations / consumers).
    tenant: z.string().regex(/^[A-Za-z0-9.-]{1,100}$/).optional(),
    // Apple: the client secret is a JWT signed with this .p8 key.
    team_id: z.string().regex(/^[A-Z0-9]{10}$/).optional(),
    key_id: z.string().regex(/^[A-Z0-9]{10}$/).optional(),
    private_key: z.string().max(10_000).optional(),
    // The upstream's multi-factor assertion (amr `mfa`) counts as a second factor here.
    trust_upstream_mfa: z.boolean().optional(),
  })
  .strict();

// What an update may change. The id, type and issuer stay: linked identities are subjects
// of that issuer, and would silently mean someone else at another one.
export const connectorChangeSchema = connectorMetadataSchema.pick({ name: true, client_id: true, client_secret: true, scope: true, team_id: true, key_id: true, private_key: true, trust_upstream_mfa: true }).partial().strict();

/** A connector as the rest of Keyhold sees it (secrets apart). */
export interface Connector {
  id: string;
  type: ConnectorType;
  name: string;
  clientId: string;
  /** OpenID Connect issuer (discovery); undefined for OAuth-only types. */
  issuer?: string;
  scope: string;
  trustUpstreamMfa: boolean;
  /** GitHub Enterprise Server's address. */
  baseUrl?: string;
  apple?: { teamId: string; keyId: string };
  createdAt: string;
}

export interface ConnectorSecrets {
  clientSecret?: string;
  privateKey?: string;
}

/** What an operator sees: no secret, and the redirect URI to register upstream. */
export interface ConnectorView {
  id: string;
  type: ConnectorType;
  name: string;
  client_id: string;
  issuer?: string;
  scope: string;
  trust_upstream_mfa: boolean;
  redirect_uri: string;
  /** Whether its secret (client secret, or Apple's private key) is set; the secret itself is never shown. */
  has_secret: boolean;
  created_at: string;
}

export interface ConnectorServiceOptions {
  issuer: string;
  allowLoopback: boolean;
  secretsKey: Buffer;
  /** The rows all() reads (a cached list on a serving node, src/stores/sign-in-lookups.ts). */
  listForSignIn?: () => Promise<ConnectorRow[]>;
}

export const redirectUriOf = (issuer: string, id: string) => `${issuer}/connect/${id}/callback`;

// The envelope is bound to the connector's id: copied onto another connector, it does not open.
const secretsContext = (id: string) => `connector:${id}`;

function toConnector(row: ConnectorRow): Connector {
  const settings = row.settings as { issuer?: string; scope?: string; trust_upstream_mfa?: boolean; base_url?: string; team_id?: string; key_id?: string };
  return {
    id: row.id,
    type: row.type as ConnectorType,
    name: row.name,
    clientId: row.client_id,
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    scope: settings.scope ?? defaultScope(row.type as ConnectorType),
    trustUpstreamMfa: settings.trust_upstream_mfa === true,
    ...(settings.base_url ? { baseUrl: settings.base_url } : {}),
    ...(settings.team_id && settings.key_id ? { apple: { teamId: settings.team_id, keyId: settings.key_id } } : {}),
    createdAt: row.created_at.toISOString(),
  };
}

function invalid(detail: string): KeyholdError {
  return new KeyholdError('invalid_connector', { key: 'error.invalid_connector.detail', params: { detail } });
}

export function createConnectorService(db: Kysely<Database>, options: ConnectorServiceOptions) {
  const opened = (row: ConnectorRow) => JSON.parse(decrypt(options.secretsKey, row.secrets_encrypted, secretsContext(row.id))) as ConnectorSecrets;

  const view = (row: ConnectorRow): ConnectorView => {
    const connector = toConnector(row);
    const secrets = opened(row);
    return {
      id: connector.id,
      type: connector.type,
      name: connector.name,
      client_id: connector.clientId,
      ...(connector.issuer ? { issuer: connector.issuer } : {}),
      scope: connector.scope,
      trust_upstream_mfa: connector.trustUpstreamMfa,
      redirect_uri: redirectUriOf(options.issuer, connector.id),
      has_secret: Boolean(secrets.clientSecret || secrets.privateKey),
      created_at: connector.createdAt,
    };
  };

  return {
    async create(input: unknown): Promise<ConnectorView> {
      const parsed = connectorMetadataSchema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw invalid(`${issue.path.join('.') || 'metadata'}: ${issue.message}`);
      }
      const metadata = parsed.data;
      let issuer: string | undefined;
      if (metadata.type === 'oidc') {
        if (!metadata.issuer) throw invalid('issuer is required for type oidc');
        issuer = assertUpstreamUrl(metadata.issuer, 'issuer', { allowLoopback: options.allowLoopback });
      } else {
        if (metadata.issuer) throw invalid(`issuer is fixed for type ${metadata.type}`);
        issuer = fixedIssuer(metadata.type, { tenant: metadata.tenant });
      }
      if (metadata.tenant && metadata.type !== 'microsoft') throw invalid('tenant is for type microsoft only');
      if (metadata.base_url && metadata.type !== 'github') throw invalid('base_url is for type github only');
      const baseUrl = metadata.base_url ? assertUpstreamUrl(metadata.base_url, 'base_url', { allowLoopback: options.allowLoopback }).replace(/\/+$/, '') : undefined;
      const secrets: ConnectorSecrets = {};
      if (metadata.type === 'apple') {
        if (!metadata.team_id || !metadata.key_id || !metadata.private_key) throw invalid('type apple needs team_id, key_id and private_key');
        if (!/-----BEGIN PRIVATE KEY-----/.test(metadata.private_key)) throw invalid('private_key must be the PEM text of the .p8 key');
        secrets.privateKey = metadata.private_key;
      } else {
        if (metadata.team_id || metadata.key_id || metadata.private_key) throw invalid('team_id, key_id and private_key are for type apple only');
        if (!metadata.client_secret) throw invalid('client_secret is required');
        secrets.clientSecret = metadata.client_secret;
      }
      const scope = metadata.scope?.trim() || defaultScope(metadata.type);
      const inserted = await insertConnectorRow(db, {
        id: metadata.id,
        type: metadata.type,
        name: metadata.name,
        clientId: metadata.client_id,
        secretsEncrypted: encrypt(options.secretsKey, JSON.stringify(secrets), secretsContext(metadata.id)),
        settings: {
          ...(issuer ? { issuer } : {}),
          scope,
          trust_upstream_mfa: metadata.trust_upstream_mfa === true,
          ...(baseUrl ? { base_url: baseUrl } : {}),
          ...(metadata.type === 'apple' ? { team_id: metadata.team_id, key_id: metadata.key_id } : {}),
        },
      });
      if (!inserted) throw new KeyholdError('connector_exists', { params: { id: metadata.id } });
      return view((await findConnectorRow(db, metadata.id))!);
    },

    async update(id: string, input: unknown): Promise<ConnectorView> {
      const row = await findConnectorRow(db, id);
      if (!row) throw new KeyholdError('unknown_connector', { params: { id } });
      const parsed = connectorChangeSchema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw invalid(`${issue.path.join('.') || 'metadata'}: ${issue.message}`);
      }
      const changes = parsed.data;
      const apple = row.type === 'apple';
      if (!apple && (changes.team_id || changes.key_id || changes.private_key)) throw invalid('team_id, key_id and private_key are for type apple only');
      if (apple && changes.client_secret) throw invalid('type apple has no client_secret: update private_key');
      if (changes.private_key !== undefined && !/-----BEGIN PRIVATE KEY-----/.test(changes.private_key)) throw invalid('private_key must be the PEM text of the .p8 key');
      const secrets = opened(row);
      if (changes.client_secret) secrets.clientSecret = changes.client_secret;
      if (changes.private_key) secrets.privateKey = changes.private_key;
      const settings: Record<string, unknown> = { ...row.settings };
      if (changes.scope !== undefined) settings.scope = changes.scope.trim() || defaultScope(row.type as ConnectorType);
      if (changes.trust_upstream_mfa !== undefined) settings.trust_upstream_mfa = changes.trust_upstream_mfa;
      if (changes.team_id) settings.team_id = changes.team_id;
      if (changes.key_id) settings.key_id = changes.key_id;
      await updateConnectorRow(db, id, {
        name: changes.name ?? row.name,
        clientId: changes.client_id ?? row.client_id,
        secretsEncrypted: encrypt(options.secretsKey, JSON.stringify(secrets), secretsContext(id)),
        settings,
      });
      return view((await findConnectorRow(db, id))!);
    },

    async list(): Promise<ConnectorView[]> {
      return (await listConnectorRows(db)).map(view);
    },

    /** One page of connectors in id order (the Admin API's list). */
    page(request: PageRequest): Promise<Page<ConnectorView>> {
      return loadPage(request, (page) => listConnectorRowPage(db, page), (row) => row.id, view);
    },

    async get(id: string): Promise<ConnectorView> {
      const row = await findConnectorRow(db, id);
      if (!row) throw new KeyholdError('unknown_connector', { params: { id } });
      return view(row);
    },

    /** Every connector, in the order the sign-in pages show them. */
    async all(): Promise<Connector[]> {
      return (await (options.listForSignIn?.() ?? listConnectorRows(db))).map(toConnector);
    },

    async find(id: string): Promise<Connector | undefined> {
      const row = await findConnectorRow(db, id);
      return row ? toConnector(row) : undefined;
    },

    /** The connector's secrets, opened for one upstream request. */
    async secrets(id: string): Promise<ConnectorSecrets> {
      const row = await findConnectorRow(db, id);
      if (!row) throw new KeyholdError('unknown_connector', { params: { id } });
      return opened(row);
    },

    /** Removes a connector and, with it, every identity linked through it. */
    async remove(id: string): Promise<{ id: string; deleted: true }> {
      if (!(await deleteConnectorRow(db, id))) throw new KeyholdError('unknown_connector', { params: { id } });
      return { id, deleted: true };
    },

    redirectUri: (id: string) => redirectUriOf(options.issuer, id),
  };
}

export type ConnectorService = ReturnType<typeof createConnectorService>;
