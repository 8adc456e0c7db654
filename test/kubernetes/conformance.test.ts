// The embedded API held against a real kube-apiserver: the same sequence of client-node, kubectl
// and raw HTTPS operations runs against both (one server of each for the whole file), and every
// step compares what a client relies on — status codes, Status reasons and causes, kinds, names,
// event types, columns. A difference fails the step unless it is a documented one
// (KNOWN_DIFFERENCES, docs/kubernetes.md "Differences from kube-apiserver").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApi, type TestApi } from '../apiserver/http/harness.js';
import { startRealKubernetes, type RealKubernetes } from '../support/real-kubernetes.js';
import { REPO_ROOT } from '../support/paths.js';
import { targetFromKubeconfig, type ApiTarget } from './api-target.js';
import { describeDifferences, differences, KNOWN_DIFFERENCES, unexplained } from './conformance-compare.js';
import { missingExpected, type Step } from './conformance-steps.js';
import { coreSteps } from './steps-core.js';
import { invalidSteps } from './steps-invalid.js';
import { patchSteps } from './steps-patch.js';
import { watchSteps } from './steps-watch.js';
import { namespaceDeleteStep, outputSteps } from './steps-output.js';
import { customSteps } from './steps-custom.js';
import { renderCrds } from '../../src/install/crds.js';

let embeddedApi: TestApi | undefined;
let kube: RealKubernetes | undefined;
let embedded: ApiTarget;
let real: ApiTarget;

before(async () => {
  [embeddedApi, kube] = await Promise.all([startTestApi(), startRealKubernetes(['--watch-cache-sizes=leases.coordination.k8s.io#0'])]);
  const api = embeddedApi;
  embedded = targetFromKubeconfig('embedded', api.kubeconfig, async () => api.store.compact(1));
  real = targetFromKubeconfig('kube-apiserver', kube.kubeconfig, () => compactEtcd(kube!));
  await installCrds(real);
});

/** Outpost's CRDs, as `outpost install` renders them (from the embedded API's descriptors). */
async function installCrds(t: ApiTarget): Promise<void> {
  const applied = await t.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: renderCrds() }));
  assert.equal(applied.code, 0, `applying the CRDs of outpost install: ${applied.stderr}`);
  const names = renderCrds().map((c) => `crd/${(c.metadata as { name: string }).name}`);
  const established = await t.kubectl(['wait', '--for', 'condition=Established', '--timeout', '60s', ...names]);
  assert.equal(established.code, 0, established.stderr);
}

after(async () => {
  await Promise.all([embeddedApi?.stop(), kube?.stop()]);
});

/**
 * Compacts etcd to its current revision. The watch cache, which would keep serving old versions
 * for a while (at least 75 s of events), is off for Leases, the type the 410 step watches.
 */
async function compactEtcd(k: RealKubernetes): Promise<void> {
  const env = readFileSync(join(k.dir, 'env'), 'utf8');
  const etcd = /^ETCD=(.+)$/m.exec(env)![1];
  const status = await fetch(`${etcd}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64'), limit: 1 }) });
  const revision = (await status.json()).header.revision;
  const r = await fetch(`${etcd}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
  if (!r.ok) throw new Error(`etcd compaction: ${r.status} ${await r.text()}`);
}

const steps: Step[] = [...coreSteps, ...invalidSteps, ...patchSteps, ...watchSteps, ...outputSteps, ...customSteps, namespaceDeleteStep];

for (const step of steps) {
  test(step.name, async () => {
    const [e, k] = await Promise.all([step.run(embedded), step.run(real)]);
    // CONFORMANCE_DUMP=FILE appends both observations of every step (JSON lines), to read what is compared.
    if (process.env.CONFORMANCE_DUMP) appendFileSync(process.env.CONFORMANCE_DUMP, `${JSON.stringify({ step: step.name, embedded: e, kube: k })}\n`);
    if (step.expect !== undefined) {
      // The embedded API is exempt only where it differs knowingly (and documented).
      const knownPaths = KNOWN_DIFFERENCES.filter((d) => d.step === step.name).flatMap((d) => d.paths);
      for (const [who, obs] of [['kube-apiserver', k], ['embedded', e]] as const) {
        const missing: string[] = missingExpected(obs, step.expect).filter((m: string) => who === 'kube-apiserver' || !knownPaths.some((p) => [':', '.', '['].some((c) => m.startsWith(p + c))));
        assert.deepEqual(missing, [], `${step.name}: ${who} did not answer as every Kubernetes API must:\n  ${missing.join('\n  ')}`);
      }
    }
    const { unknown, stale } = unexplained(step.name, differences(e, k));
    assert.deepEqual(unknown, [], describeDifferences(step.name, unknown));
    assert.deepEqual(stale, [], `${step.name}: known differences that no longer differ (remove them from KNOWN_DIFFERENCES and docs/kubernetes.md): ${stale.join(', ')}`);
  });
}

test('every known difference is explained in docs/kubernetes.md and belongs to a step', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'kubernetes.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Differences from kube-apiserver'));
  assert.ok(doc.includes('## Differences from kube-apiserver'), 'docs/kubernetes.md has a "Differences from kube-apiserver" section');
  for (const k of KNOWN_DIFFERENCES) {
    assert.ok(steps.some((s) => s.name === k.step), `known difference for an unknown step: ${k.step}`);
    assert.ok(section.includes(`### ${k.doc}`), `docs/kubernetes.md explains "${k.doc}"`);
  }
});
