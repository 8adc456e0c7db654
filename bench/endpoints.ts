// EndpointSlice controller benchmark (not a test): N ExternalWorkloads across M Services on the
// embedded API; time for the controllers to converge from empty, and the p99 time from one
// workload's status change to its slice update. Run: node --import tsx bench/endpoints.ts
// [--workloads 10000] [--services 1000] [--samples 200]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1EndpointSlice } from '@kubernetes/client-node';
import { startApiServer } from '../src/apiserver/index.js';
import { systemClock } from '../src/core/clock.js';
import { parseFlags } from '../src/core/flags.js';
import { silentLogger } from '../src/core/log.js';
import { kubeconfigYaml, paths, prepareDataDir } from '../src/controlplane/data-dir.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { startControllers } from '../src/controllers/run.js';
import { ApiClients } from '../src/core/kube-clients.js';

const { flags } = parseFlags(process.argv.slice(2), {
  workloads: { type: 'int', default: 10_000, min: 1, help: 'ExternalWorkloads' },
  services: { type: 'int', default: 1_000, min: 1, help: 'Services (workloads are spread evenly)' },
  namespaces: { type: 'int', default: 10, min: 1, help: 'namespaces' },
  samples: { type: 'int', default: 200, min: 1, help: 'status changes timed one after the other' },
});
const IN_FLIGHT = 64;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const EW = { group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads' };

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const nsOf = (svc: number) => `bench-${svc % flags.namespaces}`;

async function inParallel(count: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await fn(next++);
  }));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-endpoints-'));
  const material = await prepareDataDir(dir, '127.0.0.1');
  const store = openSqliteStore(paths(dir).db);
  const api = await startApiServer({ store, host: '127.0.0.1', port: 0, tls: { certPem: material.apiCertPem, keyPem: material.apiKeyPem }, adminToken: material.adminToken, serviceAccountKeyPem: material.serviceAccountKeyPem, log: silentLogger });
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(`https://127.0.0.1:${api.port}`, material.apiCaPem, material.adminToken));
  const clients = new ApiClients(kc); // keep-alive connections, like the controllers use
  const core = clients.make(CoreV1Api);
  const custom = clients.make(CustomObjectsApi);

  const t0 = performance.now();
  for (let n = 0; n < flags.namespaces; n++) await core.createNamespace({ body: { metadata: { name: `bench-${n}` } } });
  await inParallel(flags.services, (s) =>
    core.createNamespacedService({ namespace: nsOf(s), body: { metadata: { name: `svc-${s}` }, spec: { selector: { app: `svc-${s}` }, ports: [{ name: 'http', port: 80, targetPort: 'http' as never }] } } }),
  );
  await inParallel(flags.workloads, (w) => {
    const s = w % flags.services;
    return custom.createNamespacedCustomObject({
      ...EW,
      namespace: nsOf(s),
      body: {
        apiVersion: 'workload.linkerd.io/v1beta1',
        kind: 'ExternalWorkload',
        metadata: { name: `vm-${w}`, labels: { app: `svc-${s}` }, annotations: { 'outpost.io/assume-ready': 'true' } },
        spec: { workloadIPs: [{ ip: `10.${(w >> 16) & 255}.${(w >> 8) & 255}.${w & 255}` }], ports: [{ name: 'http', port: 8080 }] },
      },
    });
  });
  console.log(`created ${flags.workloads} ExternalWorkloads and ${flags.services} Services in ${((performance.now() - t0) / 1000).toFixed(1)} s (setup, not measured)`);

  // Converge: from starting the controllers on the full API to every Service's slice written.
  let created = 0;
  let converged!: () => void;
  const allCreated = new Promise<void>((r) => (converged = r));
  const waiters = new Map<string, () => void>();
  const onSliceWrite = (op: string, slice: V1EndpointSlice) => {
    if (op === 'create' && ++created === flags.services) converged();
    for (const ep of slice.endpoints ?? []) {
      const key = `${slice.metadata?.namespace}/${ep.targetRef?.name}:${ep.conditions?.ready}`;
      waiters.get(key)?.();
    }
  };
  const c0 = performance.now();
  const controllers = await startControllers({ kubeConfig: kc, clock: systemClock, log: silentLogger, disconnectGraceMs: 30_000, onSliceWrite });
  await allCreated;
  const convergeMs = performance.now() - c0;
  await controllers.idle(); // the AssumedReady conditions are written after the slices
  const convergedMs = performance.now() - c0;
  console.log(`converged from empty: ${flags.services} slices, ${flags.workloads} endpoints in ${(convergeMs / 1000).toFixed(2)} s (goal < 20 s); every status written after ${(convergedMs / 1000).toFixed(2)} s`);

  // Latency: one workload's Ready condition flips (status subresource), until its slice is rewritten.
  const latencies: number[] = [];
  for (let i = 0; i < flags.samples; i++) {
    const w = Math.floor(Math.random() * flags.workloads);
    const namespace = nsOf(w % flags.services);
    const seen = new Promise<void>((r) => waiters.set(`${namespace}/vm-${w}:false`, r));
    const s0 = performance.now();
    const conditions = [{ type: 'Ready', status: 'False', reason: 'ProbesFailing', message: `bench ${i}`, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }];
    await custom.patchNamespacedCustomObjectStatus({ ...EW, namespace, name: `vm-${w}`, body: { status: { conditions } } }, MERGE);
    await seen;
    latencies.push(performance.now() - s0);
    waiters.delete(`${namespace}/vm-${w}:false`);
    // Back to ready, so the next sample of the same workload is a change again.
    const back = new Promise<void>((r) => waiters.set(`${namespace}/vm-${w}:true`, r));
    await custom.patchNamespacedCustomObjectStatus({ ...EW, namespace, name: `vm-${w}`, body: { status: { conditions: [{ ...conditions[0], status: 'True', reason: 'ProbesPassing' }] } } }, MERGE);
    await back;
    waiters.delete(`${namespace}/vm-${w}:true`);
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `status change -> slice update (${flags.samples} samples, includes the status write): p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms (goal p99 < 100 ms)`,
  );

  await controllers.stop();
  clients.close();
  await api.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
