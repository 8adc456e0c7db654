// The embedded API measured against a real kube-apiserver (a script, not a test): the load of
// bench/apiserver.ts (bench/load/api-load.ts) runs against the embedded API server, then against
// the real-Kubernetes bench (etcd + kube-apiserver + kube-controller-manager v1.34, with Outpost's
// CRDs from `outpost install`), one after the other on the same machine, and prints both with
// their ratios: creates/s of 10k ExternalWorkloads, a 10k list, watch delivery p50/p99 to 100
// watchers, server CPU per create, and RSS (the embedded server process; kube-apiserver + etcd).
//   node --import tsx bench/apiserver-vs-kube.ts [--objects N] [--watchers N] [--concurrency N] [--updates N]
// Needs the bench binaries: bash scripts/real-kubernetes.sh build.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { renderCrds } from '../src/install/crds.js';
import { startRealKubernetes } from '../test/support/real-kubernetes.js';
import type { LoadTarget } from './load/api-load.js';
import { startEmbeddedServer } from './load/embedded-server.js';
import { loadOptions, runLoad, type LoadFigures } from './load/run-load.js';

const opts = loadOptions('node --import tsx bench/apiserver-vs-kube.ts [flags]');
const { objects, watchers, concurrency, updates } = opts;

type Figures = LoadFigures & { rssMb: number; peakRssMb: number };

/** VmRSS and VmHWM (peak) of processes, summed, in MB. */
function rss(pids: number[]): { rssMb: number; peakRssMb: number } {
  let rssKb = 0;
  let peakKb = 0;
  for (const pid of pids) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    rssKb += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    peakKb += Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return { rssMb: rssKb / 1024, peakRssMb: peakKb / 1024 };
}

/** CPU time (user + system) of processes, in ms (clock ticks of 10 ms, Linux's USER_HZ). */
function cpuMsOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10;
}

async function measure(target: LoadTarget, cpuMs: () => Promise<number>, pids: number[]): Promise<Figures> {
  return { ...(await runLoad(target, cpuMs, opts)), ...rss(pids) };
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`load average at start: ${load()} (${objects} ExternalWorkloads, concurrency ${concurrency}, ${watchers} watchers, ${updates} updates)`);

const embeddedServer = await startEmbeddedServer();
let embedded: Figures;
try {
  embedded = await measure(embeddedServer.target, () => embeddedServer.cpuMs(), [embeddedServer.pid]);
} finally {
  await embeddedServer.stop();
}
console.log(`embedded done; load average ${load()}`);

const kube = await startRealKubernetes();
let real: Figures;
try {
  const crds = { apiVersion: 'v1', kind: 'List', items: renderCrds() };
  const applied = await kube.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(crds));
  if (applied.code !== 0) throw new Error(`applying Outpost's CRDs: ${applied.stderr}`);
  const established = await kube.kubectl(['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/externalworkloads.workload.linkerd.io']);
  if (established.code !== 0) throw new Error(`the ExternalWorkload CRD is not established: ${established.stderr}`);
  const file = (name: string) => readFileSync(join(kube.dir, name), 'utf8');
  const pids = ['kube-apiserver', 'etcd'].map((n) => Number(file(`${n}.pid`).trim()));
  const target: LoadTarget = { url: kube.server, ca: file('ca.crt'), cert: file('admin.crt'), key: file('admin.key') };
  real = await measure(target, async () => cpuMsOf(pids), pids);
} finally {
  await kube.stop();
}
console.log(`kube-apiserver done; load average ${load()}\n`);

const rows: [string, (f: Figures) => number, string, 'higher' | 'lower'][] = [
  ['creates/s', (f) => f.createsPerSecond, '%.0f', 'higher'],
  ['server CPU per create (ms)', (f) => f.cpuMsPerCreate, '%.2f', 'lower'],
  [`list of ${embedded.listed} / ${real.listed} (ms, best of 3)`, (f) => f.listMs, '%.0f', 'lower'],
  ['watch delivery p50 (ms)', (f) => f.watch.p50, '%.1f', 'lower'],
  ['watch delivery p99 (ms)', (f) => f.watch.p99, '%.1f', 'lower'],
  ['RSS after the load (MB)', (f) => f.rssMb, '%.0f', 'lower'],
  ['peak RSS (MB)', (f) => f.peakRssMb, '%.0f', 'lower'],
];
const fmt = (v: number, f: string) => v.toFixed(Number(f.slice(2, 3)));
console.log(`${'what'.padEnd(38)} ${'embedded'.padStart(10)} ${'kube'.padStart(10)}   embedded vs kube`);
for (const [name, get, f, better] of rows) {
  const e = get(embedded);
  const k = get(real);
  const ratio = better === 'higher' ? e / k : k / e;
  console.log(`${name.padEnd(38)} ${fmt(e, f).padStart(10)} ${fmt(k, f).padStart(10)}   ${ratio.toFixed(2)}x ${ratio >= 1 ? 'better' : 'worse'}`);
}
console.log(`(kube = kube-apiserver + etcd for CPU and RSS; watch events delivered: embedded ${embedded.watch.delivered}, kube ${real.watch.delivered} of ${updates * watchers})`);
