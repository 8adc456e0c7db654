// Identity benchmark (not a test): Certify throughput and latency with 100 concurrent clients against
// a real in-process control plane (real API, real gRPC over TLS). The clients run in a child process
// so that they do not share the control plane's event loop. Two phases: bootstrap (token, so a
// TokenReview per call) and renewal (current certificate over mTLS, the steady state).
// Run: node --import tsx bench/identity.ts [seconds-per-phase]
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadavg, cpus } from 'node:os';
import { openIdentityClient, type CertifyCallRequest } from '../src/api/identity/certify-call.js';
import { createCsr, generateWorkloadKey } from '../src/core/identity/csr.js';
import { createIntermediateCA, createRootCA } from '../src/core/pki.js';
import { Authority } from '../src/identity/authority.js';
import { checkCsr } from '../src/identity/csr-check.js';

const CLIENTS = 100;
const NS = 'bench';

interface BenchClient {
  name: string;
  key: string;
  token: string;
  csr: Buffer;
  chainPem?: string;
}

interface PhaseInput {
  addr: string;
  anchors: string;
  clients: BenchClient[];
  seconds: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Asks the control-plane process for its CPU time used since the last mark (ms). */
function mark(what: 'start' | 'end'): Promise<number> {
  return new Promise((resolve) => {
    process.once('message', (m) => resolve(Number(m)));
    process.send!({ mark: what });
  });
}

/** Client side: one connection per client (warmed up, so handshakes are not counted), then a closed loop per client. */
async function runPhases({ addr, anchors, clients, seconds }: PhaseInput): Promise<string[]> {
  const lines: string[] = [];
  for (const renewal of [false, true]) {
    const conns = clients.map((c) => openIdentityClient({ addr, trustAnchorsPem: anchors, clientCertificate: renewal ? { keyPem: c.key, chainPem: c.chainPem! } : undefined }));
    const request = (c: BenchClient): CertifyCallRequest => ({ identity: `spiffe://cluster.local/ns/${NS}/sa/${c.name}`, workload: `${NS}/${c.name}`, csr: c.csr, token: renewal ? undefined : c.token });
    await Promise.all(
      clients.map(async (c, i) => {
        const res = await conns[i].certify(request(c));
        c.chainPem ??= new X509Certificate(res.leafDer).toString() + res.intermediatesDer.map((d) => new X509Certificate(d).toString()).join('');
      }),
    );
    const latencies: number[] = [];
    let errors = 0;
    let firstError = '';
    await mark('start');
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      clients.map(async (c, i) => {
        while (performance.now() < deadline) {
          const t = performance.now();
          try {
            await conns[i].certify(request(c));
            latencies.push(performance.now() - t);
          } catch (e) {
            errors++;
            firstError ||= (e as Error).message;
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const serverCpuMs = await mark('end');
    conns.forEach((c) => c.close());
    latencies.sort((a, b) => a - b);
    const label = renewal ? 'renewal (mTLS)' : 'bootstrap (token)';
    lines.push(
      `${label.padEnd(18)} ${String(latencies.length).padStart(6)} certs in ${elapsed.toFixed(1)} s = ${(latencies.length / elapsed).toFixed(0).padStart(5)} certs/s` +
        `   p50 ${percentile(latencies, 50).toFixed(1)} ms   p99 ${percentile(latencies, 99).toFixed(1)} ms   errors ${errors}${firstError ? ` (${firstError})` : ''}` +
        `\n${''.padEnd(18)} control-plane CPU ${(serverCpuMs / latencies.length).toFixed(2)} ms/cert = ${(latencies.length / (serverCpuMs / 1000)).toFixed(0)} certs per CPU-second`,
    );
  }
  return lines;
}

/** CPU cost of the signing path alone (CSR check + leaf), to compare machines and loads. */
async function signingPathMs(): Promise<number> {
  const root = await createRootCA({ commonName: 'bench-root', lifetimeMs: 86_400_000 });
  const issuer = await createIntermediateCA(root, { commonName: 'bench-issuer', lifetimeMs: 86_400_000 });
  const authority = Authority.load({ trustAnchorsPem: root.certPem, issuerCertPem: issuer.certPem, issuerKeyPem: issuer.keyPem }, 'cluster.local');
  const names = { identity: 'spiffe://cluster.local/bench', serverName: 'bench.ns.svc.cluster.local' };
  const csr = await createCsr(generateWorkloadKey(), names);
  const n = 500;
  const t = performance.now();
  for (let i = 0; i < n; i++) authority.issueWorkloadLeaf({ spki: checkCsr(csr, names).spki, ...names, lifetimeMs: 86_400_000, now: Date.now() });
  return (performance.now() - t) / n;
}

async function main(): Promise<void> {
  const { startTestControlPlane } = await import('../test/support/control-plane.js');
  const seconds = Number(process.argv[2] ?? 3);
  const cp = await startTestControlPlane({ 'identity-rate-limit': 0 });
  try {
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const clients: BenchClient[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const name = `vm-${i}`;
      await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name } } });
      await custom.createNamespacedCustomObject({
        group: 'workload.linkerd.io',
        version: 'v1beta1',
        namespace: NS,
        plural: 'externalworkloads',
        body: {
          apiVersion: 'workload.linkerd.io/v1beta1',
          kind: 'ExternalWorkload',
          metadata: { name, namespace: NS, annotations: { 'outpost.io/service-account': name } },
          spec: { workloadIPs: [{ ip: `127.0.1.${i + 1}` }], ports: [{ name: 'http', port: 8080 }] },
        },
      });
      const tr = await core.createNamespacedServiceAccountToken({ namespace: NS, name, body: { spec: { expirationSeconds: 3600, audiences: [] } } });
      const key = generateWorkloadKey();
      clients.push({ name, key, token: tr.status!.token, csr: await createCsr(key, { identity: `spiffe://cluster.local/ns/${NS}/sa/${name}`, serverName: `${name}.${NS}.svc.cluster.local` }) });
    }
    const anchors = (await core.readNamespacedConfigMap({ namespace: 'outpost', name: 'outpost-identity-trust-roots' })).data!['ca-bundle.crt'];
    const input: PhaseInput = { addr: cp.info.listeners.identity, anchors, clients, seconds };
    console.log(`identity Certify: ${CLIENTS} concurrent clients (separate process), one TLS connection each, ${seconds} s per phase`);
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} (other work on the machine slows every figure)`);
    console.log(`signing path alone (CSR check + leaf): ${(await signingPathMs()).toFixed(2)} ms/cert`);
    const child = fork(fileURLToPath(import.meta.url), ['--clients'], { execArgv: ['--import', 'tsx'], serialization: 'advanced' });
    child.send(input);
    let cpuAtStart = process.cpuUsage();
    const lines = await new Promise<string[]>((resolve, reject) => {
      child.on('message', (m: { mark?: string } | string[]) => {
        if (Array.isArray(m)) return resolve(m);
        if (m.mark === 'start') cpuAtStart = process.cpuUsage();
        const used = process.cpuUsage(cpuAtStart);
        child.send((used.user + used.system) / 1000);
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the client process exited with code ${code}`)));
    });
    child.kill();
    for (const l of lines) console.log(l);
  } finally {
    await cp.dispose();
  }
}

if (process.argv[2] !== '--clients') await main();
else process.once('message', (input) => void runPhases(input as PhaseInput).then((lines) => process.send!(lines)));
