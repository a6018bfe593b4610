// APIs (their scopes) and roles (which API scopes each grants), with grants edited as boxes.
import type { AdminClientApi } from '../api.ts';
import type { Resource, Role } from '../types.ts';
import { CreateForm, Field, fieldOf, Loading, useAction, useLoad, words } from '../ui.tsx';

function RoleGrants(props: { api: AdminClientApi; role: Role; resources: Resource[]; canWrite: boolean; saved: () => void }) {
  const action = useAction();
  const granted = (resource: string, scope: string) => props.role.grants.some((grant) => grant.resource === resource && grant.scopes.includes(scope));
  const save = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const checked = [...form.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')];
    const grants = props.resources
      .map((resource) => ({ resource: resource.identifier, scopes: checked.filter((box) => box.dataset.resource === resource.identifier).map((box) => box.value) }))
      .filter((grant) => grant.scopes.length > 0);
    void action.run(async () => {
      await props.api.setRoleGrants(props.role.name, { grants });
      props.saved();
      return 'Grants saved.';
    });
  };
  return (
    <form class="panel" onSubmit={save} aria-label={`Grants of ${props.role.name}`}>
      <h3>{props.role.name}</h3>
      {props.role.description ? <p class="muted">{props.role.description}</p> : null}
      {props.resources.map((resource) => (
        <fieldset key={resource.identifier}>
          <legend>{resource.identifier}</legend>
          {resource.scopes.map((scope) => (
            <label class="choice" key={scope}>
              <input type="checkbox" value={scope} data-resource={resource.identifier} checked={granted(resource.identifier, scope)} disabled={!props.canWrite} />
              {scope}
            </label>
          ))}
        </fieldset>
      ))}
      {props.canWrite ? (
        <button type="submit" disabled={action.busy}>
          Save grants of {props.role.name}
        </button>
      ) : null}
      {action.note}
    </form>
  );
}

export function ApisAndRoles(props: { api: AdminClientApi; canWrite: boolean }) {
  const resources = useLoad(() => props.api.listResources());
  const roles = useLoad(() => props.api.listRoles());
  const createApi = useAction();
  const createRole = useAction();

  const submitApi = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    void createApi.run(async () => {
      await props.api.createResource({ identifier: fieldOf(form, 'identifier'), scopes: words(fieldOf(form, 'scopes')) });
      form.reset();
      resources.reload();
    });
  };
  const submitRole = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    void createRole.run(async () => {
      await props.api.createRole({ name: fieldOf(form, 'name'), description: fieldOf(form, 'description') || undefined });
      form.reset();
      roles.reload();
    });
  };

  return (
    <section>
      <h1>APIs and roles</h1>
      <h2>APIs</h2>
      <Loading {...resources} />
      <ul class="list">
        {resources.data?.items.map((resource) => (
          <li key={resource.identifier}>
            <code>{resource.identifier}</code> · {resource.scopes.join(' ')}
          </li>
        ))}
      </ul>
      {props.canWrite ? (
        <CreateForm noun="API" onSubmit={submitApi} note={createApi.note}>
          <Field label="Identifier" hint="An absolute URI, e.g. https://api.example.com/reports">
            <input name="identifier" type="url" required />
          </Field>
          <Field label="Scopes" hint="Separated by spaces.">
            <input name="scopes" required />
          </Field>
        </CreateForm>
      ) : null}
      <h2>Roles</h2>
      <Loading {...roles} />
      {roles.data && resources.data
        ? roles.data.items.map((role) => <RoleGrants key={role.name} api={props.api} role={role} resources={resources.data!.items} canWrite={props.canWrite} saved={roles.reload} />)
        : null}
      {props.canWrite ? (
        <CreateForm noun="role" onSubmit={submitRole} note={createRole.note}>
          <Field label="Name">
            <input name="name" required />
          </Field>
          <Field label="Description">
            <input name="description" />
          </Field>
        </CreateForm>
      ) : null}
    </section>
  );
}
