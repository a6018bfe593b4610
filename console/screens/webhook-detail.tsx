// One webhook: its deliveries, newest first, with their attempts and last error; a failed one
// can be sent again now. Deleting the webhook stops its deliveries.
import { useState } from 'preact/hooks';
import type { AdminClientApi } from '../api.ts';
import type { Delivery } from '../types.ts';
import { formatTime, Loading, Scroll, useAction, useLoad } from '../ui.tsx';
import { eventsOf } from './webhooks.tsx';

/** Deliveries that failed (for good, or waiting for their next try): worth sending now. */
const retriable = (delivery: Delivery) => delivery.status === 'failed' || delivery.status === 'retrying';

function when(delivery: Delivery): string {
  if (delivery.delivered_at) return `delivered ${formatTime(delivery.delivered_at)}`;
  if (delivery.failed_at) return `gave up ${formatTime(delivery.failed_at)}`;
  if (delivery.next_attempt_at) return `${delivery.attempts ? 'next try' : 'due'} ${formatTime(delivery.next_attempt_at)}`;
  return `queued ${formatTime(delivery.created_at)}`;
}

export function WebhookDetail(props: { api: AdminClientApi; canWrite: boolean; id: string }) {
  const { api, id } = props;
  const webhooks = useLoad(() => api.listWebhooks(), [id]);
  const deliveries = useLoad(() => api.listDeliveries(id), [id]);
  const [more, setMore] = useState<{ items: Delivery[]; cursor: string | null }>();
  const action = useAction();
  const webhook = webhooks.data?.webhooks.find((candidate) => candidate.id === id);
  const listed = [...(deliveries.data?.deliveries ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.cursor : (deliveries.data?.next_cursor ?? null);

  const reload = () => {
    setMore(undefined);
    deliveries.reload();
  };
  const loadMore = () =>
    void action.run(async () => {
      const page = await api.listDeliveries(id, { cursor: cursor ?? undefined });
      setMore({ items: [...(more?.items ?? []), ...page.deliveries], cursor: page.next_cursor });
    });
  const retry = (delivery: Delivery) =>
    void action.run(async () => {
      await api.retryDelivery(id, delivery.id);
      reload();
      return `Delivery of ${delivery.type} queued again.`;
    });

  return (
    <section>
      <p>
        <a href="#/webhooks">← Webhooks</a>
      </p>
      <h1>Webhook</h1>
      <Loading {...webhooks} />
      {webhooks.data && !webhook ? <p class="muted">No such webhook (deleted?).</p> : null}
      {webhook ? (
        <dl class="facts">
          <dt>URL</dt>
          <dd>
            <code>{webhook.url}</code>
          </dd>
          <dt>Events</dt>
          <dd>{eventsOf(webhook.events)}</dd>
          <dt>Created</dt>
          <dd>{formatTime(webhook.created_at)}</dd>
        </dl>
      ) : null}
      <h2>Deliveries</h2>
      <div class="actions">
        <button type="button" class="small" disabled={deliveries.loading} onClick={reload}>
          Refresh
        </button>
      </div>
      {action.note}
      <Loading {...deliveries} />
      {deliveries.data ? (
        listed.length === 0 ? (
          <p class="muted">No delivery yet.</p>
        ) : (
          <Scroll label="Deliveries">
            <table>
              <thead>
                <tr>
                  <th>Event</th>
                  <th>Status</th>
                  <th>Attempts</th>
                  <th>Last error</th>
                  <th>When</th>
                </tr>
              </thead>
              <tbody>
                {listed.map((delivery) => (
                  <tr key={delivery.id} data-delivery={delivery.id} data-status={delivery.status}>
                    <td class="id">
                      {delivery.type}
                      <br />
                      <small>
                        <code title="Keyhold-Event-Id">{delivery.event_id}</code>
                      </small>
                    </td>
                    <td>
                      <span class={`status status-${delivery.status}`}>{delivery.status}</span>
                      {props.canWrite && retriable(delivery) ? (
                        <>
                          <br />
                          <button type="button" class="small" disabled={action.busy} onClick={() => retry(delivery)}>
                            Retry
                          </button>
                        </>
                      ) : null}
                    </td>
                    <td>{delivery.attempts}</td>
                    <td class="wide">{delivery.last_error ?? '—'}</td>
                    <td>{when(delivery)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )
      ) : null}
      {cursor ? (
        <button type="button" class="small" disabled={action.busy} onClick={loadMore}>
          More deliveries
        </button>
      ) : null}
      {props.canWrite && webhook ? (
        <div class="actions">
          <button
            type="button"
            class="danger"
            disabled={action.busy}
            onClick={() =>
              confirm(`Delete the webhook for ${webhook.url}? Its pending deliveries are dropped.`) &&
              void action.run(async () => {
                await api.deleteWebhook(id);
                location.hash = '#/webhooks';
              })
            }
          >
            Delete webhook
          </button>
        </div>
      ) : null}
    </section>
  );
}
