// Keyhold on a real Redis Cluster (REDIS_CLUSTER_NODES): three masters, each with a
// replica, started here on free ports. Every Redis user runs on it — the engine's state
// (code flow, refresh rotation and reuse, client_credentials, introspection, revocation,
// logout), the sessions index, rate limits, lockout and the event stream — and a command
// naming keys of two slots would fail with CROSSSLOT. Then a master is killed: its replica
// takes over, and tokens issued before the crash keep working without a restart.
import test from 'ava';
import { Cluster } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashToken } from '#src/crypto.ts';
import { Browser, parseForms } from '../helpers/browser.ts';
import { basicAuth, createUser, discover, finishAtClient, login, openAuthorization, registerClient, silentAuthorization, tokenRequest } from '../helpers/oidc.ts';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let cluster: TestRedisCluster;
let server: TestServer;
let observer: Cluster;

const PREFIX = 'keyhold:';

test.before(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
  server = await startTestServer({
    redis: false,
    env: {
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_PREFIX: PREFIX,
      MFA_REQUIRED_TIERS: 'none',
      MFA_REQUIRED_ROLES: 'none',
      LOCKOUT_THRESHOLD: '3',
      EVENTS_POLL_INTERVAL: '1',
    },
  });
  observer = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
});
test.after.always(async () => {
  await observer?.quit().catch(() => {});
  await server?.stop();
  await cluster?.stop();
});

async function postForm(endpoint: string, parameters: Record<string, string>, client: { clientId: string; clientSecret?: string }) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basicAuth(client) },
    body: new URLSearchParams(parameters),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function signedIn() {
  const client = await registerClient(server, { first_party: true });
  const user = await createUser(server);
  const config = await discover(server, client);
  const browser = new Browser();
  const result = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' }, browser);
  const metadata = config.serverMetadata();
  return {
    client,
    user,
    config,
    browser,
    tokens: result.tokens,
    introspect: (token: string) => postForm(metadata.introspection_endpoint!, { token }, client),
    revoke: (token: string) => postForm(metadata.revocation_endpoint!, { token }, client),
    refresh: (token: string) => postForm(metadata.token_endpoint!, { grant_type: 'refresh_token', refresh_token: token }, client),
  };
}

test.serial('Keyhold connects to the cluster, and reports ready', async (t) => {
  t.true(server.keyhold.redis instanceof Cluster);
  const ready = await fetch(`${server.issuer}/readyz`);
  t.is(ready.status, 200, await ready.text());
});

test.serial('code flow, refresh rotation and reuse, introspection, revocation, sessions and logout', async (t) => {
  const { user, config, browser, tokens, introspect, revoke, refresh } = await signedIn();
  t.truthy(tokens.refresh_token);
  t.is((await introspect(tokens.access_token)).json.active, true);

  // The sessions index (account → sessions) lists the browser's session.
  const sessions = await server.keyhold.sessions.list(user.id);
  t.is(sessions.length, 1);

  const rotated = await refresh(tokens.refresh_token!);
  t.is(rotated.status, 200, JSON.stringify(rotated.json));
  const successor = rotated.json.refresh_token as string;
  t.not(successor, tokens.refresh_token);
  // Reuse of the spent token fails and burns the family (grant index on the cluster).
  const reuse = await refresh(tokens.refresh_token!);
  t.is(reuse.json.error, 'invalid_grant');
  t.is((await refresh(successor)).json.error, 'invalid_grant');
  t.is((await introspect(rotated.json.access_token as string)).json.active, false);

  // A new grant in the same browser session (consent only, no login page), then revocation.
  const fresh = await login(config, user, { scope: 'openid offline_access', prompt: 'consent' }, browser);
  t.truthy((await silentAuthorization(config, browser)).searchParams.get('code'), 'the session is live');
  t.is((await introspect(fresh.tokens.access_token)).json.active, true);
  t.is((await revoke(fresh.tokens.access_token)).status, 200);
  t.is((await introspect(fresh.tokens.access_token)).json.active, false);

  // RP-initiated logout ends the session: prompt=none now needs a login.
  const endSession = new URL(config.serverMetadata().end_session_endpoint!);
  endSession.searchParams.set('id_token_hint', fresh.tokens.id_token!);
  const page = await browser.get(endSession.toString());
  const confirmed = await browser.submit(page, /\/session\/end\/confirm$/, {}, { button: 'logout', follow: false });
  t.true([302, 303].includes(confirmed.status), `status ${confirmed.status}`);
  const afterLogout = await silentAuthorization(config, browser);
  t.is(afterLogout.searchParams.get('error'), 'login_required');
  t.is((await server.keyhold.sessions.list(user.id)).length, 0);
});

test.serial('client_credentials tokens are issued and introspected', async (t) => {
  const client = await registerClient(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  const issued = await tokenRequest(server, client, { grant_type: 'client_credentials' });
  t.is(issued.status, 200, JSON.stringify(issued.body));
  const endpoint = (await discover(server, client)).serverMetadata().introspection_endpoint!;
  const introspected = await postForm(endpoint, { token: issued.body.access_token as string }, client);
  t.is(introspected.json.active, true);
  t.is(introspected.json.client_id, client.clientId);
});

test.serial('lockout and login rate limits count on the cluster; an admin unlock lifts the lock', async (t) => {
  const client = await registerClient(server, { first_party: true });
  const config = await discover(server, client);
  const user = await createUser(server);
  const attempt = async (password: string) => {
    const flow = await openAuthorization(config);
    t.truthy(parseForms(flow.page.body, flow.page.url).find((form) => form.action.endsWith('/login')));
    const page = await flow.browser.submit(flow.page, /\/login$/, { email: user.email, password }, { stopAt: (url) => url.startsWith('https://app.example.test/') });
    return { flow, page };
  };
  for (let failure = 0; failure < 3; failure += 1) {
    const { page } = await attempt('wrong password entirely');
    t.false(page.url.startsWith('https://app.example.test/'));
  }
  t.true(await server.keyhold.lockout.isLocked(user.id));
  const locked = await attempt(user.password);
  t.false(locked.page.url.startsWith('https://app.example.test/'), 'the right password does not get through a lock');
  t.true(await server.keyhold.lockout.unlock(user.id));
  const { flow, page } = await attempt(user.password);
  const { claims } = await finishAtClient(config, flow, page);
  t.is(claims.sub, user.id);
  // The limits' counters live on the cluster too.
  let limitKeys = 0;
  for (const node of observer.nodes('master')) limitKeys += (await node.keys(`${PREFIX}rl:login-*`)).length;
  t.true(limitKeys > 0);
});

test.serial('events reach the Redis Stream on the cluster', async (t) => {
  const user = await createUser(server);
  let found = false;
  for (let tries = 0; tries < 100 && !found; tries += 1) {
    const entries = await observer.xrange(`${PREFIX}events`, '-', '+');
    found = entries.some(([, fields]) => fields.includes('auth.user_created') && fields.some((field) => field.includes(user.id)));
    if (!found) await sleep(100);
  }
  t.true(found, 'auth.user_created for the new user is on the stream');
});

test.serial('state is spread over every master', async (t) => {
  const sizes = await Promise.all(observer.nodes('master').map((node) => node.dbsize()));
  t.is(sizes.length, 3);
  for (const size of sizes) t.true(size > 0, `keys per master: ${sizes.join(', ')}`);
});

/** Waits until every replica has received everything its master has (no write lost in the crash). */
async function replicasCaughtUp(ports: number[]): Promise<void> {
  for (const port of ports) {
    const master = cluster.connect(port);
    for (;;) {
      const info = await master.info('replication');
      const offset = Number(/master_repl_offset:(\d+)/.exec(info)![1]);
      const replicas = [...info.matchAll(/slave\d+:[^\n]*offset=(\d+)/g)].map((match) => Number(match[1]));
      if (replicas.length > 0 && replicas.every((replica) => replica >= offset)) break;
      await sleep(50);
    }
    await master.quit();
  }
}

test.serial('a master crashes: its replica takes over, and tokens issued before keep working', async (t) => {
  const { config, tokens, introspect, refresh } = await signedIn();
  const refreshKey = `${PREFIX}{RefreshToken:${hashToken(tokens.refresh_token!)}}`;
  const masters = await cluster.masterPorts();
  t.is(masters.length, 3);
  // The master holding this refresh token: the one that answers for its key (others redirect).
  let owner: number | undefined;
  for (const port of masters) {
    const node = cluster.connect(port);
    if ((await node.exists(refreshKey).catch(() => 0)) === 1) owner = port;
    await node.quit();
  }
  t.truthy(owner, 'the refresh token is stored on one master');
  // Redis replication is asynchronous: an acknowledged write can be lost when a master
  // crashes before its replica has it (operators run replicas and accept that window, or
  // use WAIT). The test waits for the replicas, so that what it checks is the failover.
  await replicasCaughtUp(masters);

  await cluster.kill(owner!);
  await cluster.waitUntilHealthy(3, owner);

  // The same Keyhold process, no restart: it follows the new topology at the first request.
  const rotated = await refresh(tokens.refresh_token!);
  t.is(rotated.status, 200, JSON.stringify(rotated.json));
  t.is((await introspect(rotated.json.access_token as string)).json.active, true);
  // And a whole new sign-in works after the failover.
  const user = await createUser(server);
  const after = await login(config, user, { scope: 'openid' });
  t.is(after.tokens.claims()!.sub, user.id);
  t.is((await fetch(`${server.issuer}/readyz`)).status, 200);
});
