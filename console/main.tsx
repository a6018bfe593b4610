// The admin console: signs in (session.ts), then shows one screen per hash route
// (#/users/<id>, #/audit?subject=…). Write controls appear only with the `admin` scope;
// the Admin API refuses writes without it anyway.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createAdminClient, type AdminClientApi } from './api.ts';
import { createSession, type ConsoleSession } from './session.ts';
import { ApisAndRoles } from './screens/apis-roles.tsx';
import { Audit } from './screens/audit.tsx';
import { ClientDetail } from './screens/client-detail.tsx';
import { Clients } from './screens/clients.tsx';
import { ConnectorDetail } from './screens/connector-detail.tsx';
import { Connectors } from './screens/connectors.tsx';
import { Dashboard } from './screens/dashboard.tsx';
import { SigningKeys } from './screens/keys.tsx';
import { Tenants } from './screens/tenants.tsx';
import { UserDetail } from './screens/user-detail.tsx';
import { Users } from './screens/users.tsx';
import { WebhookDetail } from './screens/webhook-detail.tsx';
import { Webhooks } from './screens/webhooks.tsx';
import { describeError, Note } from './ui.tsx';
import './console.css';

const NAVIGATION = [
  ['#/', 'Dashboard'],
  ['#/users', 'Users'],
  ['#/clients', 'Clients'],
  ['#/apis', 'APIs and roles'],
  ['#/connectors', 'Connectors'],
  ['#/keys', 'Signing keys'],
  ['#/webhooks', 'Webhooks'],
  ['#/audit', 'Audit log'],
  ['#/tenants', 'Tenants'],
] as const;

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const changed = () => setHash(location.hash || '#/');
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

function Screen(props: { hash: string; api: AdminClientApi; canWrite: boolean; issuer: string }) {
  const [path, search = ''] = props.hash.slice(1).split('?');
  const parts = (path ?? '/').split('/').filter(Boolean).map(decodeURIComponent);
  const { api, canWrite } = props;
  // Detail screens are keyed by their object: another one starts afresh (no secret, note or
  // form text of the previous one stays on screen).
  switch (parts[0]) {
    case undefined:
      return <Dashboard api={api} />;
    case 'users':
      return parts[1] ? <UserDetail key={parts[1]} api={api} canWrite={canWrite} id={parts[1]} /> : <Users api={api} canWrite={canWrite} />;
    case 'clients':
      return parts[1] ? <ClientDetail key={parts[1]} api={api} canWrite={canWrite} id={parts[1]} issuer={props.issuer} /> : <Clients api={api} canWrite={canWrite} issuer={props.issuer} />;
    case 'apis':
      return <ApisAndRoles api={api} canWrite={canWrite} />;
    case 'connectors':
      return parts[1] ? <ConnectorDetail key={parts[1]} api={api} canWrite={canWrite} id={parts[1]} /> : <Connectors api={api} canWrite={canWrite} />;
    case 'keys':
      return <SigningKeys api={api} canWrite={canWrite} />;
    case 'webhooks':
      return parts[1] ? <WebhookDetail key={parts[1]} api={api} canWrite={canWrite} id={parts[1]} /> : <Webhooks api={api} canWrite={canWrite} />;
    case 'audit': {
      const params = new URLSearchParams(search);
      return <Audit key={search} api={api} initial={{ subject: params.get('subject') ?? undefined, action: params.get('action') ?? undefined }} />;
    }
    case 'tenants':
      return <Tenants api={api} canWrite={canWrite} />;
    default:
      return <Note kind="error">No such screen.</Note>;
  }
}

function App(props: { session: ConsoleSession; issuer: string }) {
  const hash = useHash();
  const api = useMemo(() => createAdminClient(props.session.send), [props.session]);
  const access = props.session.access();
  const current = '#/' + (hash.slice(2).split(/[/?]/)[0] ?? '');
  return (
    <>
      <header>
        <strong class="brand">Keyhold console</strong>
        <span class="badge" data-access={access}>
          {access === 'write' ? 'Administrator' : access === 'read' ? 'Read-only' : 'No access'}
        </span>
        <button type="button" class="link" onClick={() => void props.session.signOut()}>
          Sign out
        </button>
      </header>
      {access === 'none' ? (
        <main>
          <Note kind="error">Your account has no administrator role: the console is not available to it.</Note>
        </main>
      ) : (
        <>
          <nav aria-label="Screens">
            {NAVIGATION.map(([href, label]) => (
              <a key={href} href={href} aria-current={current === href ? 'page' : undefined}>
                {label}
              </a>
            ))}
          </nav>
          <main>
            <Screen hash={hash} api={api} canWrite={access === 'write'} issuer={props.issuer} />
          </main>
        </>
      )}
    </>
  );
}

async function start(root: HTMLElement): Promise<void> {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="keyhold-console"]');
  const settings = { issuer: meta?.dataset.issuer ?? location.origin, clientId: meta?.dataset.clientId ?? 'keyhold-console' };
  const session = createSession(settings);
  try {
    if (location.pathname.endsWith('/console/callback')) {
      const hash = await session.finishSignIn();
      history.replaceState(null, '', `${new URL(settings.issuer).pathname.replace(/\/$/, '')}/console/${hash || '#/'}`);
    }
    if (!session.signedIn()) await session.signIn();
    render(<App session={session} issuer={settings.issuer} />, root);
  } catch (error) {
    render(
      <main>
        <Note kind="error">{describeError(error)}</Note>
        <button type="button" onClick={() => void session.signIn()}>
          Sign in again
        </button>
      </main>,
      root,
    );
  }
}

void start(document.getElementById('console')!);
