// Benchmark of the embedded API server (a script, not a test): creates 10,000 ExternalWorkloads
// over HTTPS (concurrency 50), lists them, then measures watch delivery to 100 watchers.
// The server runs in a child process so that client work does not share its event loop.
//   node --import tsx bench/apiserver.ts [--objects N] [--watchers N] [--concurrency N]
// Goals (issue 2, 2-core machine): >= 2,000 creates/s, 10k list < 300 ms, watch p99 < 50 ms.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

interface ServerInfo {
  url: string;
  token: string;
  ca: string;
}

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};

if (process.argv[2] === 'serve') {
  await serve();
} else {
  await main();
}

/** Child process: a data dir, a store and the API server; prints its address as JSON. */
async function serve(): Promise<void> {
  const { prepareDataDir, paths } = await import('../src/controlplane/data-dir.js');
  const { openSqliteStore } = await import('../src/store/sqlite.js');
  const { startApiServer } = await import('../src/apiserver/index.js');
  const { silentLogger } = await import('../src/core/log.js');
  const dir = process.argv[3];
  const m = await prepareDataDir(dir, '127.0.0.1');
  const store = openSqliteStore(paths(dir).db);
  const server = await startApiServer({ store, host: '127.0.0.1', port: 0, tls: { certPem: m.apiCertPem, keyPem: m.apiKeyPem }, adminToken: m.adminToken, serviceAccountKeyPem: m.serviceAccountKeyPem, log: silentLogger });
  process.send!({ url: server.url, token: m.adminToken, ca: m.apiCaPem } satisfies ServerInfo);
  // The parent asks for the server's CPU time, a figure that does not depend on machine load.
  process.on('message', (m) => {
    if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
  });
  process.on('disconnect', async () => {
    await server.close();
    store.close();
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const objects = arg('objects', 10_000);
  const watchers = arg('watchers', 100);
  const concurrency = arg('concurrency', 50);
  const updates = arg('updates', 500);
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-'));
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['serve', dir], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : [])], stdio: 'inherit' });
  try {
    const info = await new Promise<ServerInfo>((resolve, reject) => {
      child.once('message', (m) => resolve(m as ServerInfo));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: info.ca });
    const call = (method: string, path: string, body?: unknown, contentType = 'application/json') => http(info, agent, method, path, body, contentType);
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    const EW = '/apis/workload.linkerd.io/v1beta1/namespaces/bench/externalworkloads';

    const serverCpuMs = () =>
      new Promise<number>((resolve) => {
        child.once('message', (m) => {
          const cpu = (m as { cpu: NodeJS.CpuUsage }).cpu;
          resolve((cpu.user + cpu.system) / 1000);
        });
        child.send('cpu');
      });

    // 1. Creates.
    let next = 0;
    const cpu0 = await serverCpuMs();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < objects; i = next++) {
          const r = await call('POST', EW, workload(i));
          if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${r.text.slice(0, 200)}`);
        }
      }),
    );
    const createSeconds = (performance.now() - t0) / 1000;
    const createsPerSecond = objects / createSeconds;
    const cpuPerCreate = ((await serverCpuMs()) - cpu0) / objects;

    // 2. List (best of 3, after one warm-up).
    await call('GET', EW);
    const listTimes: number[] = [];
    let listed = 0;
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      const r = await call('GET', EW);
      listTimes.push(performance.now() - s);
      listed = JSON.parse(r.text).items.length;
    }

    // 3. Watch fan-out: N watchers; sequential-ish label patches stamped with their send time.
    const latencies: number[] = [];
    const streams = await Promise.all(Array.from({ length: watchers }, () => openWatch(info, `${EW}?watch=true&resourceVersion=${'0'}&labelSelector=bench%3Dyes&allowWatchBookmarks=true`, latencies)));
    const base = latencies.length;
    let sent = 0;
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        for (let i = sent++; i < updates; i = sent++) {
          const at = performance.timeOrigin + performance.now();
          await call('PATCH', `${EW}/vm-${i % objects}`, { metadata: { annotations: { 'bench/sent': String(at) }, labels: { bench: 'yes', round: String(i) } } }, 'application/merge-patch+json');
        }
      }),
    );
    const expected = base + updates * watchers;
    const deadline = Date.now() + 30_000;
    while (latencies.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of streams) s.destroy();
    const delivered = latencies.slice(base).sort((a, b) => a - b);
    const p = (q: number) => delivered[Math.min(delivered.length - 1, Math.floor(q * delivered.length))] ?? NaN;

    const row = (name: string, value: string, goal: string, ok: boolean) => console.log(`${name.padEnd(34)} ${value.padStart(12)}   goal ${goal.padEnd(10)} ${ok ? 'ok' : 'MISSED'}`);
    console.log(`embedded API server, ${objects} ExternalWorkloads, concurrency ${concurrency}, ${watchers} watchers`);
    row('creates/s', createsPerSecond.toFixed(0), '>= 2000', createsPerSecond >= 2000);
    console.log(`${'  server CPU per create'.padEnd(34)} ${`${cpuPerCreate.toFixed(2)} ms`.padStart(12)}   (${(1000 / cpuPerCreate).toFixed(0)}/s if the server had a core to itself)`);
    row(`list of ${listed} (best of 3)`, `${Math.min(...listTimes).toFixed(0)} ms`, '< 300 ms', Math.min(...listTimes) < 300);
    row(`watch delivery p50 (${delivered.length} events)`, `${p(0.5).toFixed(1)} ms`, '', true);
    row('watch delivery p99', `${p(0.99).toFixed(1)} ms`, '< 50 ms', p(0.99) < 50);
    if (delivered.length < updates * watchers) console.log(`(only ${delivered.length} of ${updates * watchers} watch events arrived)`);
    agent.destroy();
  } finally {
    child.disconnect();
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

function workload(i: number) {
  return {
    apiVersion: 'workload.linkerd.io/v1beta1',
    kind: 'ExternalWorkload',
    metadata: { name: `vm-${i}`, labels: { app: `app-${i % 20}` } },
    spec: {
      meshTLS: { identity: `spiffe://cluster.local/ns/bench/sa/app-${i % 20}`, serverName: `vm-${i}.bench.svc.cluster.local` },
      workloadIPs: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
      ports: [{ name: 'http', port: 8080 }],
    },
  };
}

function http(info: ServerInfo, agent: Agent, method: string, path: string, body: unknown, contentType: string): Promise<{ status: number; text: string }> {
  const u = new URL(info.url + path);
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent, headers: { Authorization: `Bearer ${info.token}`, ...(data ? { 'Content-Type': contentType, 'Content-Length': data.length } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/** A watch on its own connection; pushes (receive time - bench/sent annotation) per stamped event. */
function openWatch(info: ServerInfo, path: string, latencies: number[]): Promise<{ destroy(): void }> {
  const u = new URL(info.url + path);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, ca: info.ca, agent: false, headers: { Authorization: `Bearer ${info.token}` } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const sent = /"bench\/sent":"([\d.]+)"/.exec(line);
          if (sent) latencies.push(performance.timeOrigin + performance.now() - Number(sent[1]));
        }
      });
      res.on('error', () => {});
      resolve({ destroy: () => req.destroy() });
    });
    req.on('error', (e) => (e.message.includes('socket hang up') || e.message.includes('aborted') ? undefined : reject(e)));
    req.end();
  });
}
