// The audit log with filters (action, account, actor, time), newest first, page by page.
import { useState } from 'preact/hooks';
import type { AdminClientApi } from '../api.ts';
import type { AuditEntry, AuditQuery } from '../types.ts';
import { Field, Note, Scroll, describeError, fieldOf, formatTime, useLoad } from '../ui.tsx';

const toIso = (local: string) => (local ? new Date(`${local}Z`).toISOString() : undefined);

export function Audit(props: { api: AdminClientApi; initial: AuditQuery }) {
  const [query, setQuery] = useState<AuditQuery>(props.initial);
  const [more, setMore] = useState<{ items: AuditEntry[]; cursor: string | null }>();
  const [moreError, setMoreError] = useState<string>();
  const page = useLoad(() => props.api.listAudit(query), [JSON.stringify(query)]);

  const filter = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setMore(undefined);
    setQuery({
      action: fieldOf(form, 'action') || undefined,
      subject: fieldOf(form, 'subject') || undefined,
      actor: fieldOf(form, 'actor') || undefined,
      since: toIso(fieldOf(form, 'since')),
      until: toIso(fieldOf(form, 'until')),
    });
  };
  const items = [...(page.data?.items ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.cursor : (page.data?.next_cursor ?? null);
  const loadMore = async () => {
    try {
      const next = await props.api.listAudit({ ...query, cursor: cursor ?? undefined });
      setMore({ items: [...(more?.items ?? []), ...next.items], cursor: next.next_cursor });
    } catch (error) {
      setMoreError(describeError(error));
    }
  };

  return (
    <section>
      <h1>Audit log</h1>
      <form class="row" onSubmit={filter} aria-label="Filters">
        <Field label="Action">
          <input name="action" value={query.action ?? ''} placeholder="login.failed" />
        </Field>
        <Field label="Account id">
          <input name="subject" value={query.subject ?? ''} />
        </Field>
        <Field label="Actor">
          <input name="actor" value={query.actor ?? ''} placeholder="account:<id>, client:<id>, cli" />
        </Field>
        <Field label="Since (UTC)">
          <input name="since" type="datetime-local" />
        </Field>
        <Field label="Until (UTC)">
          <input name="until" type="datetime-local" />
        </Field>
        <button type="submit">Filter</button>
      </form>
      {page.error ? <Note kind="error">{page.error}</Note> : null}
      {moreError ? <Note kind="error">{moreError}</Note> : null}
      <Scroll label="Audit entries">
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Action</th>
              <th>Account</th>
              <th>Actor</th>
              <th>Address</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {items.map((entry) => (
              <tr key={entry.id} data-action={entry.action}>
                <td>{formatTime(entry.at)}</td>
                <td>{entry.action}</td>
                <td>{entry.subject ? <a href={`#/users/${entry.subject}`}>{entry.subject.slice(0, 8)}</a> : '—'}</td>
                <td>{entry.actor ?? '—'}</td>
                <td>{entry.ip ?? '—'}</td>
                <td class="details">
                  <code>{JSON.stringify(entry.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      {!page.loading && items.length === 0 ? <p class="muted">No entry matches.</p> : null}
      {cursor ? (
        <button type="button" onClick={() => void loadMore()}>
          Older entries
        </button>
      ) : null}
    </section>
  );
}
