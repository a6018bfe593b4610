// Connectors (federation upstreams): the list, and creation with the fields each type needs.
// After creation the redirect URI to register upstream is shown. Secrets are sent, never shown
// (the API answers has_secret only). Changing connectors is for owners (they show on every
// tenant's sign-in pages); the API refuses other administrators.
import { useState } from 'preact/hooks';
import { CONNECTOR_TYPES, defaultScope, type ConnectorType } from '#src/services/federation/connector-types.ts';
import type { AdminClientApi } from '../api.ts';
import type { Connector, ConnectorCreate } from '../types.ts';
import { CreateForm, Field, Loading, Scroll, fieldOf, useAction, useLoad } from '../ui.tsx';

/** How each type is named, and where its operator finds the client id and secret. */
export const CONNECTOR_KINDS: Record<ConnectorType, { label: string; help: string }> = {
  oidc: { label: 'OpenID Connect provider', help: 'Any OpenID Connect provider, found by discovery from its issuer URL.' },
  google: { label: 'Google', help: 'Google Cloud console → Credentials → OAuth client ID (web application).' },
  microsoft: { label: 'Microsoft', help: 'Microsoft Entra → App registrations; the directory is a tenant id, or common, organizations or consumers.' },
  apple: { label: 'Apple', help: 'Apple Developer → Sign in with Apple: the Services ID is the client id; the .p8 key signs the client secret.' },
  github: { label: 'GitHub', help: 'GitHub → Settings → Developer settings → OAuth Apps. GitHub Enterprise Server: its web address.' },
  facebook: { label: 'Facebook', help: 'Meta for Developers → the app\'s Facebook Login settings.' },
};

/** The redirect URI to register upstream, with a note saying so. */
export function RedirectUri(props: { connector: Connector }) {
  return (
    <div class="once" role="status">
      <p>
        Register this redirect URI at {CONNECTOR_KINDS[props.connector.type].label}:
      </p>
      <pre>
        <code data-redirect-uri>{props.connector.redirect_uri}</code>
      </pre>
    </div>
  );
}

function createInput(type: ConnectorType, form: HTMLFormElement): ConnectorCreate {
  const optional = (name: string) => fieldOf(form, name) || undefined;
  const common = {
    id: fieldOf(form, 'id'),
    type,
    name: fieldOf(form, 'name'),
    client_id: fieldOf(form, 'client_id'),
    scope: optional('scope'),
    trust_upstream_mfa: (form.elements.namedItem('trust_upstream_mfa') as HTMLInputElement).checked,
  };
  if (type === 'apple') return { ...common, team_id: fieldOf(form, 'team_id'), key_id: fieldOf(form, 'key_id'), private_key: fieldOf(form, 'private_key') };
  return {
    ...common,
    client_secret: fieldOf(form, 'client_secret'),
    ...(type === 'oidc' ? { issuer: fieldOf(form, 'issuer') } : {}),
    ...(type === 'microsoft' ? { tenant: optional('tenant') } : {}),
    ...(type === 'github' ? { base_url: optional('base_url') } : {}),
  };
}

/** Apple's key fields: on creation, and on a change (where empty keeps the stored ones). */
export function AppleKeyFields(props: { required: boolean }) {
  return (
    <>
      <Field label="Team ID" hint="10 characters, from the Apple Developer account.">
        <input name="team_id" autocomplete="off" required={props.required} pattern="[A-Z0-9]{10}" />
      </Field>
      <Field label="Key ID" hint="10 characters, of the Sign in with Apple key.">
        <input name="key_id" autocomplete="off" required={props.required} pattern="[A-Z0-9]{10}" />
      </Field>
      <Field label="Private key (.p8)" hint={props.required ? 'The PEM text of the .p8 file; never shown again.' : 'Empty: keep the stored key.'}>
        <textarea name="private_key" rows={4} autocomplete="off" required={props.required} spellcheck={false} />
      </Field>
    </>
  );
}

export function Connectors(props: { api: AdminClientApi; canWrite: boolean }) {
  const connectors = useLoad(() => props.api.listConnectors());
  const [type, setType] = useState<ConnectorType>('oidc');
  const [created, setCreated] = useState<Connector>();
  const create = useAction();

  const submit = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    void create.run(async () => {
      setCreated(await props.api.createConnector(createInput(type, form)));
      form.reset();
      setType('oidc');
      connectors.reload();
    });
  };

  return (
    <section>
      <h1>Connectors</h1>
      <p class="muted">Upstream identity providers people can sign in with. Each shows as a button on the sign-in and registration pages.</p>
      <Loading {...connectors} />
      {connectors.data ? (
        connectors.data.items.length === 0 ? (
          <p class="muted">No connector yet.</p>
        ) : (
          <Scroll label="Connectors">
            <table>
              <thead>
                <tr>
                  <th>Connector</th>
                  <th>Name</th>
                  <th>Type</th>
                  <th>Client id</th>
                  <th>Secret</th>
                </tr>
              </thead>
              <tbody>
                {connectors.data.items.map((connector) => (
                  <tr key={connector.id} data-connector={connector.id}>
                    <td>
                      <a href={`#/connectors/${encodeURIComponent(connector.id)}`}>{connector.id}</a>
                    </td>
                    <td>{connector.name}</td>
                    <td>{CONNECTOR_KINDS[connector.type].label}</td>
                    <td>{connector.client_id}</td>
                    <td>{connector.has_secret ? 'set' : 'missing'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )
      ) : null}
      {created ? (
        <div class="panel" aria-label="New connector">
          <h2>Created {created.id}</h2>
          <RedirectUri connector={created} />
        </div>
      ) : null}
      {props.canWrite ? (
        <CreateForm noun="connector" onSubmit={submit} note={create.note} busy={create.busy}>
          <Field label="Type" hint={CONNECTOR_KINDS[type].help}>
            <select name="type" value={type} onChange={(event) => setType((event.currentTarget as HTMLSelectElement).value as ConnectorType)}>
              {CONNECTOR_TYPES.map((name) => (
                <option key={name} value={name}>
                  {CONNECTOR_KINDS[name].label}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Id" hint="Lower case letters, digits, - and _; it is part of the redirect URI and cannot change.">
            <input name="id" autocomplete="off" required pattern="[a-z0-9][a-z0-9_\-]{0,63}" />
          </Field>
          <Field label="Name" hint="The button text: “Continue with <name>”.">
            <input name="name" autocomplete="off" required />
          </Field>
          {type === 'oidc' ? (
            <Field label="Issuer URL" hint="Its discovery document is at <issuer>/.well-known/openid-configuration.">
              <input name="issuer" type="url" autocomplete="off" required />
            </Field>
          ) : null}
          {type === 'microsoft' ? (
            <Field label="Directory" hint="Empty: common (any Microsoft account).">
              <input name="tenant" autocomplete="off" />
            </Field>
          ) : null}
          {type === 'github' ? (
            <Field label="GitHub Enterprise Server address" hint="Empty: github.com.">
              <input name="base_url" type="url" autocomplete="off" />
            </Field>
          ) : null}
          <Field label={type === 'apple' ? 'Services ID (client id)' : 'Client id'}>
            <input name="client_id" autocomplete="off" required />
          </Field>
          {type === 'apple' ? (
            <AppleKeyFields required />
          ) : (
            <Field label="Client secret" hint="Never shown again.">
              <input name="client_secret" type="password" autocomplete="new-password" required />
            </Field>
          )}
          <Field label="Scope" hint={`Empty: ${defaultScope(type)}.`}>
            <input name="scope" autocomplete="off" />
          </Field>
          <label class="choice">
            <input type="checkbox" name="trust_upstream_mfa" />
            Count the provider's multi-factor sign-in as a second factor here
          </label>
        </CreateForm>
      ) : null}
    </section>
  );
}
