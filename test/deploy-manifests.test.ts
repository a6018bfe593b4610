// deploy/kubernetes: the probes point at paths Keyhold really serves (a renamed route would
// otherwise leave every pod unready), the kustomization lists files that exist, and the
// Secret carries what a node needs. Read as text: the manifests are plain YAML on purpose.
import { existsSync, readFileSync } from 'node:fs';
import test from 'ava';
import { startTestServer } from './helpers/server.ts';

const file = (name: string) => readFileSync(new URL(`../deploy/kubernetes/${name}`, import.meta.url), 'utf8');

test('readiness and liveness probes answer 200 on a running node', async (t) => {
  const deployment = file('deployment.yaml');
  const probes = [...deployment.matchAll(/(readinessProbe|livenessProbe|startupProbe):\s*\n(?:\s*#[^\n]*\n)*\s*httpGet: \{ path: (\/\w+), port: http \}/g)].map((match) => [match[1]!, match[2]!] as const);
  t.deepEqual(probes.map(([kind]) => kind).sort(), ['livenessProbe', 'readinessProbe', 'startupProbe']);
  t.is(probes.find(([kind]) => kind === 'readinessProbe')![1], '/readyz');
  t.is(probes.find(([kind]) => kind === 'livenessProbe')![1], '/healthz');
  const server = await startTestServer();
  try {
    for (const [kind, path] of probes) t.is((await fetch(`${server.issuer}${path}`)).status, 200, `${kind} ${path}`);
  } finally {
    await server.stop();
  }
});

test('the kustomization lists every manifest, and the Secret holds what a node needs', (t) => {
  const listed = [...file('kustomization.yaml').matchAll(/^\s+- ([\w.-]+\.yaml)$/gm)].map((match) => match[1]!);
  t.deepEqual(listed.sort(), ['deployment.yaml', 'hpa.yaml', 'pdb.yaml', 'secret.yaml', 'service.yaml']);
  for (const name of listed) t.true(existsSync(new URL(`../deploy/kubernetes/${name}`, import.meta.url)), name);
  const secret = file('secret.yaml');
  for (const key of ['KEYHOLD_SECRET', 'DATABASE_URL', 'REDIS_URL']) t.regex(secret, new RegExp(`^  ${key}: `, 'm'));
  t.regex(file('pdb.yaml'), /kind: PodDisruptionBudget/);
  t.regex(file('hpa.yaml'), /kind: HorizontalPodAutoscaler/);
  t.regex(file('deployment.yaml'), /secretRef: \{ name: keyhold \}/);
});
