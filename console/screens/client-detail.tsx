// One client: its metadata; rotate its secret (shown once) or delete it.
import { useState } from 'preact/hooks';
import type { AdminClientApi } from '../api.ts';
import { formatTime, Loading, SecretOnce, useAction, useLoad } from '../ui.tsx';

export function ClientDetail(props: { api: AdminClientApi; canWrite: boolean; id: string }) {
  const client = useLoad(() => props.api.getClient(props.id), [props.id]);
  const [secret, setSecret] = useState<string>();
  const action = useAction();
  const data = client.data;
  return (
    <section>
      <p>
        <a href="#/clients">← Clients</a>
      </p>
      <h1>{props.id}</h1>
      <Loading {...client} />
      {data ? (
        <>
          <dl class="facts">
            <dt>Tenant</dt>
            <dd>{data.tenant}</dd>
            <dt>First party</dt>
            <dd>{data.first_party ? 'yes (no consent page)' : 'no'}</dd>
            <dt>Secret</dt>
            <dd>{data.has_secret ? 'yes' : 'none (public client)'}</dd>
            <dt>Created</dt>
            <dd>{formatTime(data.created_at)}</dd>
          </dl>
          <h2>Metadata</h2>
          <pre>
            <code>{JSON.stringify(data.metadata, null, 2)}</code>
          </pre>
          {secret ? <SecretOnce label="Client secret" secret={secret} /> : null}
          {props.canWrite ? (
            <div class="actions">
              {data.has_secret ? (
                <button type="button" disabled={action.busy} onClick={() => void action.run(async () => setSecret((await props.api.rotateClientSecret(props.id)).client_secret))}>
                  Rotate secret
                </button>
              ) : null}
              <button
                type="button"
                class="danger"
                disabled={action.busy}
                onClick={() =>
                  confirm(`Delete ${props.id}? Its tokens stop working.`) &&
                  void action.run(async () => {
                    await props.api.deleteClient(props.id);
                    location.hash = '#/clients';
                  })
                }
              >
                Delete
              </button>
            </div>
          ) : null}
          {action.note}
        </>
      ) : null}
    </section>
  );
}
