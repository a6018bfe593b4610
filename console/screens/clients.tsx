// Clients: the list, and creation with a preset; the secret and the snippet are shown once.
import { useState } from 'preact/hooks';
import type { AdminClientApi } from '../api.ts';
import { PRESETS, snippetFor, type PresetName } from '../presets.ts';
import type { ClientCreated } from '../types.ts';
import { CreateForm, Field, Loading, Scroll, SecretOnce, fieldOf, useAction, useLoad, words } from '../ui.tsx';

export function Clients(props: { api: AdminClientApi; canWrite: boolean; issuer: string }) {
  const clients = useLoad(() => props.api.listClients());
  const [preset, setPreset] = useState<PresetName>('spa');
  const [created, setCreated] = useState<{ answer: ClientCreated; preset: PresetName }>();
  const create = useAction();

  const submit = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    void create.run(async () => {
      const chosen = PRESETS[preset];
      const clientId = fieldOf(form, 'client_id');
      const name = fieldOf(form, 'client_name');
      const scope = fieldOf(form, 'scope');
      const metadata: Record<string, unknown> = {
        ...chosen.metadata,
        ...(clientId ? { client_id: clientId } : {}),
        ...(name ? { client_name: name } : {}),
        ...(scope ? { scope } : {}),
        ...(chosen.redirects ? { redirect_uris: words(fieldOf(form, 'redirect_uris')) } : {}),
      };
      const answer = await props.api.createClient({ metadata });
      setCreated({ answer, preset });
      form.reset();
      clients.reload();
    });
  };

  return (
    <section>
      <h1>Clients</h1>
      <Loading {...clients} />
      {clients.data ? (
        <Scroll label="Clients">
          <table>
            <thead>
              <tr>
                <th>Client</th>
                <th>Name</th>
                <th>Grant types</th>
                <th>Tenant</th>
              </tr>
            </thead>
            <tbody>
              {clients.data.items.map((client) => (
                <tr key={client.client_id}>
                  <td>
                    <a href={`#/clients/${encodeURIComponent(client.client_id)}`}>{client.client_id}</a>
                  </td>
                  <td>{String(client.metadata.client_name ?? '—')}</td>
                  <td>{((client.metadata.grant_types as string[] | undefined) ?? ['authorization_code']).join(', ')}</td>
                  <td>{client.tenant}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      ) : null}
      {created ? (
        <div class="panel" aria-label="New client">
          <h2>Created {created.answer.client.client_id}</h2>
          {created.answer.client_secret ? <SecretOnce label="Client secret" secret={created.answer.client_secret} /> : null}
          <p>Paste into the application:</p>
          <pre>
            <code data-snippet>{snippetFor(created.preset, props.issuer, created.answer.client.client_id, created.answer.client.metadata)}</code>
          </pre>
        </div>
      ) : null}
      {props.canWrite ? (
        <CreateForm noun="client" onSubmit={submit} note={create.note} busy={create.busy}>
          <fieldset>
            <legend>Kind of application</legend>
            {(Object.keys(PRESETS) as PresetName[]).map((name) => (
              <label class="choice" key={name}>
                <input type="radio" name="preset" value={name} checked={preset === name} onChange={() => setPreset(name)} />
                {PRESETS[name].label}
              </label>
            ))}
            <small class="muted">{PRESETS[preset].help}</small>
          </fieldset>
          <Field label="Client id" hint="Leave empty to generate one.">
            <input name="client_id" autocomplete="off" />
          </Field>
          <Field label="Name">
            <input name="client_name" autocomplete="off" />
          </Field>
          {PRESETS[preset].redirects ? (
            <Field label="Redirect URIs" hint="One per line.">
              <textarea name="redirect_uris" rows={3} required />
            </Field>
          ) : null}
          <Field label="Allowed scopes" hint="Separated by spaces, API scopes included; empty: OpenID scopes only.">
            <input name="scope" autocomplete="off" />
          </Field>
        </CreateForm>
      ) : null}
    </section>
  );
}
