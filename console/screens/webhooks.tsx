// Webhooks: where events are POSTed. Creating one shows its signing secret this once; the
// receiver checks Keyhold-Signature with it. A webhook's deliveries are on its own screen.
import { useState } from 'preact/hooks';
import { eventTypes, isEventType } from '#src/services/event-types.ts';
import type { AdminClientApi } from '../api.ts';
import type { WebhookCreated } from '../types.ts';
import { CreateForm, Field, formatTime, Loading, Scroll, SecretOnce, fieldOf, useAction, useLoad } from '../ui.tsx';

export const eventsOf = (events: string[]) => (events.length === 0 ? 'every event' : events.join(', '));

export function Webhooks(props: { api: AdminClientApi; canWrite: boolean }) {
  const webhooks = useLoad(() => props.api.listWebhooks());
  const [created, setCreated] = useState<WebhookCreated>();
  const create = useAction();

  const submit = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const events = [...form.querySelectorAll<HTMLInputElement>('input[name=events]:checked')].map((box) => box.value).filter(isEventType);
    void create.run(async () => {
      setCreated(await props.api.createWebhook({ url: fieldOf(form, 'url'), ...(events.length ? { events } : {}) }));
      form.reset();
      webhooks.reload();
    });
  };

  return (
    <section>
      <h1>Webhooks</h1>
      <p class="muted">
        Each event is POSTed as JSON, signed in <code>Keyhold-Signature</code>, at least once (a redelivery has the same <code>Keyhold-Event-Id</code>), retried with back-off.
      </p>
      <Loading {...webhooks} />
      {webhooks.data ? (
        webhooks.data.webhooks.length === 0 ? (
          <p class="muted">No webhook yet.</p>
        ) : (
          <Scroll label="Webhooks">
            <table>
              <thead>
                <tr>
                  <th>URL</th>
                  <th>Events</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {webhooks.data.webhooks.map((webhook) => (
                  <tr key={webhook.id} data-webhook={webhook.id}>
                    <td class="wide">
                      <a href={`#/webhooks/${encodeURIComponent(webhook.id)}`}>{webhook.url}</a>
                    </td>
                    <td>{eventsOf(webhook.events)}</td>
                    <td>{formatTime(webhook.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )
      ) : null}
      {created ? (
        <div class="panel" aria-label="New webhook">
          <h2>Webhook created</h2>
          <p>
            Events go to <code>{created.url}</code>.
          </p>
          <SecretOnce label="Signing secret" secret={created.secret} />
          <p class="muted">The receiver checks each request's Keyhold-Signature with it.</p>
          <p>
            <a href={`#/webhooks/${encodeURIComponent(created.id)}`}>Its deliveries</a>
          </p>
        </div>
      ) : null}
      {props.canWrite ? (
        <CreateForm noun="webhook" onSubmit={submit} note={create.note} busy={create.busy}>
          <Field label="URL" hint="Where events are POSTed (https in production).">
            <input name="url" type="url" autocomplete="off" required />
          </Field>
          <fieldset>
            <legend>Events (none ticked: every event)</legend>
            {eventTypes.map((type) => (
              <label class="choice" key={type}>
                <input type="checkbox" name="events" value={type} />
                {type}
              </label>
            ))}
          </fieldset>
        </CreateForm>
      ) : null}
    </section>
  );
}
