// Tenants and their settings overrides; creating one needs the owner role.
import type { AdminClientApi } from '../api.ts';
import { CreateForm, Field, Loading, Scroll, fieldOf, formatTime, useAction, useLoad } from '../ui.tsx';

export function Tenants(props: { api: AdminClientApi; canWrite: boolean }) {
  const tenants = useLoad(() => props.api.listTenants());
  const create = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const registration = fieldOf(form, 'registration');
    void create.run(async () => {
      await props.api.createTenant({
        id: fieldOf(form, 'id'),
        name: fieldOf(form, 'name') || undefined,
        registration: registration === 'open' || registration === 'invite' || registration === 'closed' ? registration : null,
      });
      form.reset();
      tenants.reload();
    });
  };
  return (
    <section>
      <h1>Tenants</h1>
      <Loading {...tenants} />
      {tenants.data ? (
        <Scroll label="Tenants">
          <table>
            <thead>
              <tr>
                <th>Id</th>
                <th>Name</th>
                <th>Registration</th>
                <th>MFA tiers</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {tenants.data.items.map((tenant) => (
                <tr key={tenant.id}>
                  <td>{tenant.id}</td>
                  <td>{tenant.name ?? '—'}</td>
                  <td>{tenant.registration ?? 'node setting'}</td>
                  <td>{tenant.mfa_required_tiers?.join(', ') ?? 'node setting'}</td>
                  <td>{formatTime(tenant.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      ) : null}
      {props.canWrite ? (
        <CreateForm noun="tenant" onSubmit={submit} note={create.note}>
          <Field label="Id">
            <input name="id" required />
          </Field>
          <Field label="Name">
            <input name="name" />
          </Field>
          <Field label="Registration">
            <select name="registration">
              <option value="">Node setting</option>
              <option value="open">open</option>
              <option value="invite">invite</option>
              <option value="closed">closed</option>
            </select>
          </Field>
        </CreateForm>
      ) : null}
    </section>
  );
}
