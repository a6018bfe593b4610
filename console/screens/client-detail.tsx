// One client: its redirect URIs (changeable), the snippet to paste, its metadata; rotate its
// secret (shown once) or delete it.
import { useState } from 'preact/hooks';
import type { AdminClientApi } from '../api.ts';
import { presetOf, snippetFor } from '../presets.ts';
import { Field, fieldOf, formatTime, Loading, SecretOnce, useAction, useLoad, words } from '../ui.tsx';

export function ClientDetail(props: { api: AdminClientApi; canWrite: boolean; id: string; issuer: string }) {
  const client = useLoad(() => props.api.getClient(props.id), [props.id]);
  const [secret, setSecret] = useState<string>();
  const action = useAction();
  const redirects = useAction();
  const data = client.data;
  const redirectUris = (data?.metadata.redirect_uris as string[] | undefined) ?? [];
  const preset = data ? presetOf(data.metadata) : 'web';

  const saveRedirects = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    void redirects.run(async () => {
      await props.api.updateClient(props.id, { metadata: { redirect_uris: words(fieldOf(form, 'redirect_uris')) } });
      client.reload();
      return 'Redirect URIs saved.';
    });
  };
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
          {preset !== 'service' ? (
            <>
              <h2>Redirect URIs</h2>
              <ul class="list" aria-label="Redirect URIs">
                {redirectUris.map((uri) => (
                  <li key={uri}>
                    <code>{uri}</code>
                  </li>
                ))}
                {redirectUris.length === 0 ? <li class="muted">None.</li> : null}
              </ul>
              {props.canWrite ? (
                <form class="stack" onSubmit={saveRedirects} aria-label="Change redirect URIs" key={redirectUris.join(' ')}>
                  <Field label="Redirect URIs" hint="One per line; they replace the list above.">
                    <textarea name="redirect_uris" rows={3} defaultValue={redirectUris.join('\n')} required />
                  </Field>
                  <button type="submit" disabled={redirects.busy}>
                    Save redirect URIs
                  </button>
                  {redirects.note}
                </form>
              ) : null}
            </>
          ) : null}
          <h2>Snippet</h2>
          <pre>
            <code data-snippet>{snippetFor(preset, props.issuer, props.id, data.metadata)}</code>
          </pre>
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
