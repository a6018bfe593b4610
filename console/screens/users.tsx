// Accounts: search by email or name, create one (write access).
import { useState } from 'preact/hooks';
import type { AdminClientApi } from '../api.ts';
import type { AdminUser, UserQuery } from '../types.ts';
import { CreateForm, Field, Loading, Scroll, fieldOf, useAction, useLoad, words } from '../ui.tsx';

export function Users(props: { api: AdminClientApi; canWrite: boolean }) {
  const [query, setQuery] = useState<UserQuery>({});
  const users = useLoad(() => props.api.listUsers(query), [JSON.stringify(query)]);
  const [more, setMore] = useState<{ items: AdminUser[]; cursor: string | null }>();
  const create = useAction();
  const next = useAction();
  const listed = [...(users.data?.items ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.cursor : (users.data?.next_cursor ?? null);
  const loadMore = () =>
    void next.run(async () => {
      const page = await props.api.listUsers({ ...query, cursor: cursor ?? undefined });
      setMore({ items: [...(more?.items ?? []), ...page.items], cursor: page.next_cursor });
    });

  const search = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setMore(undefined);
    setQuery({ email: fieldOf(form, 'email') || undefined, name: fieldOf(form, 'name') || undefined });
  };
  const createUser = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    void create.run(async () => {
      const roles = words(fieldOf(form, 'roles'));
      const user = await props.api.createUser({
        email: fieldOf(form, 'email'),
        name: fieldOf(form, 'name') || undefined,
        password: fieldOf(form, 'password') || undefined,
        tier: fieldOf(form, 'tier') || undefined,
        ...(roles.length ? { roles } : {}),
      });
      form.reset();
      users.reload();
      location.hash = `#/users/${user.id}`;
    });
  };

  return (
    <section>
      <h1>Users</h1>
      <form class="row" onSubmit={search} role="search">
        <Field label="Email">
          <input name="email" type="search" />
        </Field>
        <Field label="Name">
          <input name="name" type="search" />
        </Field>
        <button type="submit">Search</button>
      </form>
      <Loading {...users} />
      {users.data ? (
        <Scroll label="Users">
          <table>
            <thead>
              <tr>
                <th>Email</th>
                <th>Name</th>
                <th>Roles</th>
                <th>Tier</th>
                <th>Tenant</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {listed.map((user) => (
                <tr key={user.id}>
                  <td>
                    <a href={`#/users/${user.id}`}>{user.email}</a>
                  </td>
                  <td>{user.name ?? '—'}</td>
                  <td>{user.roles.join(', ')}</td>
                  <td>{user.tier ?? '—'}</td>
                  <td>{user.tenant}</td>
                  <td>{user.active ? 'active' : 'disabled'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      ) : null}
      {users.data && listed.length === 0 ? <p class="muted">No account matches.</p> : null}
      {cursor ? (
        <button type="button" disabled={next.busy} onClick={loadMore}>
          More users
        </button>
      ) : null}
      {next.note}
      {props.canWrite ? (
        <CreateForm noun="user" onSubmit={createUser} note={create.note} busy={create.busy}>
          <Field label="Email">
            <input name="email" type="email" required autocomplete="off" />
          </Field>
          <Field label="Name">
            <input name="name" autocomplete="off" />
          </Field>
          <Field label="Password" hint="Leave empty to let the person set one through a reset link.">
            <input name="password" type="password" autocomplete="new-password" />
          </Field>
          <Field label="Roles" hint="Separated by spaces; empty: the default roles.">
            <input name="roles" autocomplete="off" />
          </Field>
          <Field label="Tier">
            <input name="tier" autocomplete="off" />
          </Field>
        </CreateForm>
      ) : null}
    </section>
  );
}
