// Destination benchmark (not a test): `outpost up` in a child process, S Services each with an
// EndpointSlice, one mTLS Get stream per Service (over C connections), and R endpoint changes per
// second written through the API. Prints update delivery p50/p99 (API write → client receipt) and
// the control-plane process's CPU and memory. Run: node --import tsx bench/destination.ts
// [--services 1000] [--rate 100] [--seconds 10] [--connections 100]
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseFlags } from '../src/core/flags.js';
import { issueLeaf, loadCA } from '../src/core/pki.js';
import { serviceClient } from '../src/api/load.js';

const { flags } = parseFlags(process.argv.slice(2), {
  services: { type: 'int', default: 1_000, min: 1, help: 'Services, one stream each' },
  rate: { type: 'int', default: 100, min: 1, help: 'endpoint changes per second' },
  seconds: { type: 'int', default: 10, min: 1, help: 'churn duration' },
  connections: { type: 'int', default: 100, min: 1, help: 'gRPC connections the streams share' },
  fanout: { type: 'bool', help: 'every stream watches the same Service (each change fans out to all streams)' },
});
const NS = 'bench';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const IN_FLIGHT = 32;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const probeIp = (seq: number) => `10.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}`;

async function inParallel(count: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await fn(next++);
  }));
}

function procStats(pid: number): { cpuMs: number; rssMb: number; hwmMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime (fields 14, 15)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuMs: (ticks * 1000) / 100, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

async function runBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-destination-'));
  const main = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
  // Every listener on a free port: the *-port flags `outpost up --help` lists.
  const help = execFileSync(process.execPath, ['--import', 'tsx', main, 'up', '--help'], { encoding: 'utf8' });
  const ports = [...new Set(help.match(/--[a-z-]+-port\b/g) ?? [])].flatMap((f) => [f, '0']);
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'up', '--data-dir', dir, '--log-level', 'warn', ...ports], { stdio: ['ignore', 'ignore', 'inherit'] });
  const killChild = () => child.kill('SIGTERM');
  process.once('exit', killChild);
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  try {
    const cpFile = join(dir, 'control-plane.json');
    for (let i = 0; i < 600 && !existsSync(cpFile); i++) await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(cpFile)) throw new Error('the control plane did not start within 60 s');
    const info = JSON.parse(readFileSync(cpFile, 'utf8'));
    console.log('control plane up');
    const kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const discovery = kc.makeApiClient(DiscoveryV1Api);

    const t0 = performance.now();
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await inParallel(flags.services, async (s) => {
      await core.createNamespacedService({ namespace: NS, body: { metadata: { name: `svc-${s}` }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 as never }] } } });
      await custom.createNamespacedCustomObject({
        group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', namespace: NS,
        body: { apiVersion: 'workload.linkerd.io/v1beta1', kind: 'ExternalWorkload', metadata: { name: `vm-${s}` }, spec: { meshTLS: { identity: `spiffe://cluster.local/vm-${s}`, serverName: `vm-${s}.${NS}.svc.cluster.local` }, workloadIPs: [{ ip: probeIp(s + 0x100000) }], ports: [{ name: 'http', port: 8080 }] } },
      });
      await discovery.createNamespacedEndpointSlice({ namespace: NS, body: slice(s, -1) });
    });
    console.log(`setup: ${flags.services} services, workloads and slices in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Streams, authenticated with a client certificate from the control plane's issuer.
    const pki = join(dir, 'pki');
    const issuer = await loadCA(readFileSync(join(pki, 'issuer.crt'), 'utf8'), readFileSync(join(pki, 'issuer.key'), 'utf8'));
    const leaf = await issueLeaf(issuer, { commonName: 'bench', sans: { uris: ['spiffe://cluster.local/ns/bench/sa/bench'] }, lifetimeMs: 3_600_000, usages: ['client'] });
    const creds = grpc.credentials.createSsl(readFileSync(join(pki, 'trust-anchors.crt')), Buffer.from(leaf.keyPem!), Buffer.from(`${leaf.certPem.trim()}\n${issuer.certPem.trim()}\n`));
    const Destination = serviceClient('outpost.destination.v1.Destination') as any;
    const clients = Array.from({ length: flags.connections }, () => new Destination(info.listeners.destination, creds, { 'grpc.use_local_subchannel_pool': 1 }));
    const sentAt = new Map<string, number>();
    const receivedAt = new Map<string, number>();
    const ackedAt = new Map<string, number>();
    const latencies: number[] = [];
    let firstAnswers = 0;
    let streamErrors = 0;
    const calls = Array.from({ length: flags.services }, (_, s) => {
      const call = clients[s % clients.length].Get({ path: `svc-${flags.fanout ? 0 : s}.${NS}.svc.cluster.local:80` });
      let first = true;
      call.on('data', (u: any) => {
        if (first) {
          first = false;
          firstAnswers++;
        }
        for (const e of u.add?.endpoints ?? []) {
          const t = sentAt.get(e.address);
          if (t !== undefined) {
            const now = performance.now();
            latencies.push(now - t);
            if (!receivedAt.has(e.address)) receivedAt.set(e.address, now);
            if (!flags.fanout) sentAt.delete(e.address);
          }
        }
      });
      call.on('error', (e: any) => {
        if (e.code !== grpc.status.CANCELLED) streamErrors++;
      });
      return call;
    });
    const t1 = performance.now();
    while (firstAnswers < flags.services && performance.now() - t1 < 60_000) await new Promise((r) => setTimeout(r, 50));
    console.log(`streams: ${firstAnswers}/${flags.services} answered in ${((performance.now() - t1) / 1000).toFixed(1)} s`);

    // Churn: every change moves one Service's probe endpoint to a new address; the time from the
    // API write to the client's receipt of that address is the delivery latency.
    const before = procStats(child.pid!);
    const total = flags.rate * flags.seconds;
    const start = performance.now();
    const writes: Promise<unknown>[] = [];
    const writeTimes: number[] = [];
    const inFlight = new Map<number, Promise<unknown>>();
    for (let seq = 0; seq < total; seq++) {
      const due = start + (seq * 1000) / flags.rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const s = flags.fanout ? 0 : Math.floor(Math.random() * flags.services);
      // One write at a time per slice (like one controller per object), so writes never conflict.
      const patch = (): Promise<unknown> =>
        discovery.patchNamespacedEndpointSlice({ name: `svc-${s}-bench`, namespace: NS, body: { endpoints: slice(s, seq).endpoints } }, MERGE).catch((e) => {
          if (e?.code === 409) return patch();
          throw e;
        });
      const write = (inFlight.get(s) ?? Promise.resolve()).then(async () => {
        const w0 = performance.now();
        sentAt.set(probeIp(seq), w0);
        await patch();
        writeTimes.push(performance.now() - w0);
        ackedAt.set(probeIp(seq), performance.now());
      });
      inFlight.set(s, write);
      writes.push(write);
    }
    await Promise.all(writes);
    const deadline = performance.now() + 5_000;
    const expected = flags.fanout ? total * flags.services : total;
    while (latencies.length < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const after = procStats(child.pid!);
    const elapsed = (performance.now() - start) / 1000;
    const sorted = latencies.sort((a, b) => a - b);
    console.log(`churn: ${total} changes at ${flags.rate}/s over ${flags.services} streams; ${flags.fanout ? 'all on one Service; ' : ''}deliveries ${sorted.length} of ${expected}, stream errors ${streamErrors}`);
    console.log(`delivery (API write → client): p50 ${pct(sorted, 50).toFixed(1)} ms, p99 ${pct(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`);
    writeTimes.sort((a, b) => a - b);
    // Delivery after the API acknowledged the write (negative: the stream update beat the HTTP response).
    const afterAck = [...ackedAt].filter(([ip]) => receivedAt.has(ip)).map(([ip, t]) => receivedAt.get(ip)! - t).sort((a, b) => a - b);
    console.log(`delivery after the API's acknowledgement: p50 ${pct(afterAck, 50).toFixed(1)} ms, p99 ${pct(afterAck, 99).toFixed(1)} ms`);
    console.log(`API write (patch round trip): p50 ${pct(writeTimes, 50).toFixed(1)} ms, p99 ${pct(writeTimes, 99).toFixed(1)} ms`);
    console.log(`control plane (whole \`outpost up\` process: API, store, identity, controllers, destination, policy): CPU ${(((after.cpuMs - before.cpuMs) / 1000 / elapsed) * 100).toFixed(0)} % of one core during churn, RSS ${after.rssMb.toFixed(0)} MB (peak ${after.hwmMb.toFixed(0)} MB)`);
    for (const c of calls) c.cancel();
    for (const c of clients) c.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Service s's slice: its workload's endpoint, plus a probe endpoint whose address encodes `seq`. */
function slice(s: number, seq: number) {
  return {
    metadata: { name: `svc-${s}-bench`, labels: { 'kubernetes.io/service-name': `svc-${s}`, 'endpointslice.kubernetes.io/managed-by': 'outpost-bench' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [
      { addresses: [probeIp(s + 0x100000)], conditions: { ready: true }, targetRef: { kind: 'ExternalWorkload', name: `vm-${s}`, namespace: NS } },
      ...(seq >= 0 ? [{ addresses: [probeIp(seq)], conditions: { ready: true } }] : []),
    ],
  };
}

await runBench();
