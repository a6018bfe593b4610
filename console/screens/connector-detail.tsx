// One connector: what it is and its redirect URI; change its name, credentials, scope and MFA
// trust (id, type and issuer stay: linked identities are subjects of that issuer), or delete it.
// Fields start from the stored values (defaultValue): a refused change keeps what was typed.
import type { AdminClientApi } from '../api.ts';
import type { ConnectorPatch } from '../types.ts';
import { Field, fieldOf, formatTime, Loading, useAction, useLoad } from '../ui.tsx';
import { AppleKeyFields, CONNECTOR_KINDS, RedirectUri } from './connectors.tsx';

export function ConnectorDetail(props: { api: AdminClientApi; canWrite: boolean; id: string }) {
  const { api, id } = props;
  const connector = useLoad(() => api.getConnector(id), [id]);
  const action = useAction();
  const data = connector.data;

  const save = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    // Empty secret fields keep the stored secret.
    const optional = (name: string) => fieldOf(form, name) || undefined;
    const change: ConnectorPatch = {
      name: fieldOf(form, 'name'),
      client_id: fieldOf(form, 'client_id'),
      scope: fieldOf(form, 'scope'),
      trust_upstream_mfa: (form.elements.namedItem('trust_upstream_mfa') as HTMLInputElement).checked,
      ...(data?.type === 'apple' ? { team_id: optional('team_id'), key_id: optional('key_id'), private_key: optional('private_key') } : { client_secret: optional('client_secret') }),
    };
    void action.run(async () => {
      await api.updateConnector(id, change);
      connector.reload();
      return 'Saved.';
    });
  };

  return (
    <section>
      <p>
        <a href="#/connectors">← Connectors</a>
      </p>
      <h1>{data?.name ?? id}</h1>
      <Loading {...connector} />
      {data ? (
        <>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{data.id}</code>
            </dd>
            <dt>Type</dt>
            <dd>{CONNECTOR_KINDS[data.type].label}</dd>
            <dt>Issuer</dt>
            <dd>{data.issuer ?? '— (OAuth 2.0 provider)'}</dd>
            <dt>Client id</dt>
            <dd>
              <code>{data.client_id}</code>
            </dd>
            <dt>{data.type === 'apple' ? 'Private key' : 'Client secret'}</dt>
            <dd>{data.has_secret ? 'set (never shown)' : 'missing'}</dd>
            <dt>Scope</dt>
            <dd>{data.scope}</dd>
            <dt>Upstream MFA</dt>
            <dd>{data.trust_upstream_mfa ? 'counts as a second factor' : 'not trusted'}</dd>
            <dt>Created</dt>
            <dd>{formatTime(data.created_at)}</dd>
          </dl>
          <RedirectUri connector={data} />
          {props.canWrite ? (
            <>
              <h2>Change</h2>
              <form class="stack" onSubmit={save} aria-label="Change connector" key={JSON.stringify(data)}>
                <Field label="Name">
                  <input name="name" defaultValue={data.name} autocomplete="off" required />
                </Field>
                <Field label={data.type === 'apple' ? 'Services ID (client id)' : 'Client id'}>
                  <input name="client_id" defaultValue={data.client_id} autocomplete="off" required />
                </Field>
                {data.type === 'apple' ? (
                  <AppleKeyFields required={false} />
                ) : (
                  <Field label="New client secret" hint="Empty: keep the stored secret.">
                    <input name="client_secret" type="password" autocomplete="new-password" />
                  </Field>
                )}
                <Field label="Scope" hint="Empty: the type's default.">
                  <input name="scope" defaultValue={data.scope} autocomplete="off" />
                </Field>
                <label class="choice">
                  <input type="checkbox" name="trust_upstream_mfa" defaultChecked={data.trust_upstream_mfa} />
                  Count the provider's multi-factor sign-in as a second factor here
                </label>
                <button type="submit" disabled={action.busy}>
                  Save
                </button>
              </form>
              <div class="actions">
                <button
                  type="button"
                  class="danger"
                  disabled={action.busy}
                  onClick={() =>
                    confirm(`Delete ${id}? Every identity linked through it is unlinked (the accounts stay).`) &&
                    void action.run(async () => {
                      await api.deleteConnector(id);
                      location.hash = '#/connectors';
                    })
                  }
                >
                  Delete
                </button>
              </div>
            </>
          ) : null}
          {action.note}
        </>
      ) : null}
    </section>
  );
}
