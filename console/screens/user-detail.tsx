// One account: its profile, roles, tier and tenant; its lockout, sessions, second factors and
// linked identities; and the actions (disable, sign out everywhere, reset mail, unlock).
import type { AdminClientApi } from '../api.ts';
import { Field, fieldOf, formatTime, Loading, useAction, useLoad, words } from '../ui.tsx';

export function UserDetail(props: { api: AdminClientApi; canWrite: boolean; id: string }) {
  const { api, id } = props;
  const user = useLoad(() => api.getUser(id), [id]);
  const security = useLoad(() => api.getUserSecurity(id), [id]);
  const action = useAction();
  const reload = () => {
    user.reload();
    security.reload();
  };
  const act = (run: () => Promise<unknown>, done: string) => () =>
    void action.run(async () => {
      await run();
      reload();
      return done;
    });
  const save = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    void action.run(async () => {
      await api.updateUser(id, { name: fieldOf(form, 'name') || null, roles: words(fieldOf(form, 'roles')), tier: fieldOf(form, 'tier') || null });
      reload();
      return 'Saved.';
    });
  };

  const account = user.data;
  const details = security.data;
  return (
    <section>
      <p>
        <a href="#/users">← Users</a>
      </p>
      <h1>{account?.email ?? 'User'}</h1>
      <Loading {...user} />
      {account ? (
        <>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{account.id}</code>
            </dd>
            <dt>Status</dt>
            <dd>{account.active ? 'active' : 'disabled'}</dd>
            <dt>Email verified</dt>
            <dd>{account.email_verified ? 'yes' : 'no'}</dd>
            <dt>Tenant</dt>
            <dd>{account.tenant}</dd>
            <dt>Last sign-in</dt>
            <dd>{formatTime(account.last_login_at)}</dd>
            <dt>Locked until</dt>
            <dd data-field="locked">{details ? formatTime(details.locked_until) : '…'}</dd>
            {props.canWrite ? null : (
              <>
                <dt>Name</dt>
                <dd>{account.name ?? '—'}</dd>
                <dt>Roles</dt>
                <dd>{account.roles.join(', ')}</dd>
                <dt>Tier</dt>
                <dd>{account.tier ?? '—'}</dd>
              </>
            )}
          </dl>
          {props.canWrite ? (
            <>
              <form class="stack" onSubmit={save} aria-label="Profile and roles" key={account.updated_at}>
                <Field label="Name">
                  <input name="name" defaultValue={account.name ?? ''} autocomplete="off" />
                </Field>
                <Field label="Roles" hint="Separated by spaces.">
                  <input name="roles" defaultValue={account.roles.join(' ')} autocomplete="off" />
                </Field>
                <Field label="Tier">
                  <input name="tier" defaultValue={account.tier ?? ''} autocomplete="off" />
                </Field>
                <button type="submit" disabled={action.busy}>
                  Save
                </button>
              </form>
              <div class="actions">
                <button type="button" disabled={action.busy} onClick={act(() => api.updateUser(id, { active: !account.active }), account.active ? 'Disabled.' : 'Enabled.')}>
                  {account.active ? 'Disable' : 'Enable'}
                </button>
                <button type="button" disabled={action.busy} onClick={act(() => api.logoutUser(id), 'Every session and token ended.')}>
                  Sign out everywhere
                </button>
                <button type="button" disabled={action.busy} onClick={act(() => api.sendPasswordReset(id), 'Reset link mailed.')}>
                  Send password reset
                </button>
                <button type="button" disabled={action.busy} onClick={act(() => api.unlockUser(id), 'Unlocked.')}>
                  Unlock
                </button>
              </div>
            </>
          ) : null}
          {action.note}
        </>
      ) : null}
      <Loading {...security} />
      {details ? (
        <>
          <h2>Sessions ({details.sessions.length})</h2>
          <ul class="list" aria-label="Sessions">
            {details.sessions.map((session) => (
              <li key={session.id}>
                {session.device ?? 'Unknown device'} · {session.ip ?? 'no address'} · since {formatTime(session.created_at)} · last active {formatTime(session.last_active_at)}
              </li>
            ))}
            {details.sessions.length === 0 ? <li class="muted">No session.</li> : null}
          </ul>
          <h2>Second factors</h2>
          <ul class="list">
            {details.factors.map((factor) => (
              <li key={factor.id}>
                {factor.kind}
                {factor.label ? ` (${factor.label})` : ''} · added {formatTime(factor.created_at)} · last used {formatTime(factor.last_used_at)}
              </li>
            ))}
            {details.factors.length === 0 ? <li class="muted">None.</li> : null}
          </ul>
          <h2>Linked identities</h2>
          <ul class="list">
            {details.identities.map((identity) => (
              <li key={identity.connector_id}>
                <a href={`#/connectors/${encodeURIComponent(identity.connector_id)}`}>{identity.connector_id}</a> · {identity.email ?? 'no email'} · linked {formatTime(identity.created_at)}
              </li>
            ))}
            {details.identities.length === 0 ? <li class="muted">None.</li> : null}
          </ul>
          <p>
            <a href={`#/audit?subject=${id}`}>Audit entries of this account</a>
          </p>
        </>
      ) : null}
    </section>
  );
}
