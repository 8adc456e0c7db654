// Viz benchmark (not a test): the built-in pipeline scraping 500 fake proxies (HTTP servers on
// 127.0.0.1 in a child process, each rendering the proxy's own metric families for 2 inbound clients
// and 2 outbound destinations) — CPU of one core per 10 s scrape interval, memory, and `viz stat`
// latency through the real viz HTTP server. A few scrape rounds back to back keep it short.
// Run: node --import tsx bench/viz.ts [proxies]
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/log.js';
import { AdminAuthenticator } from '../src/viz/auth.js';
import { MemoryBackend } from '../src/viz/backend.js';
import type { WorkloadInfo } from '../src/viz/workload-info.js';
import { Scraper } from '../src/viz/scraper.js';
import { startVizServer } from '../src/viz/server.js';

const PROXIES = Number(process.argv[2] ?? 500);
const ROUNDS = 4;
const INTERVAL_MS = 10_000;

async function childMain(): Promise<void> {
  const { ProxyMetrics } = await import('../src/proxy/metrics/proxy-metrics.js');
  const { labelString } = await import('../src/core/metrics/registry.js');
  const count = Number(process.env.BENCH_PROXIES);
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const m = new ProxyMetrics();
    const ns = `ns${i % 10}`;
    const inbound = [0, 1].map((c) => m.httpFor(labelString({ direction: 'inbound', target_addr: '127.0.0.1:8080', tls: 'true', client_id: `spiffe://cluster.local/ns/${ns}/sa/client-${(i + c) % count}`, authority: `w${i}.${ns}.svc.cluster.local:8080` })));
    const outbound = [0, 1].map((d) => m.httpFor(labelString({ direction: 'outbound', authority: `w${(i + d + 1) % count}.${ns}.svc.cluster.local:8080`, target_addr: `10.0.${d}.${i % 250}:8080`, tls: 'true', server_id: `spiffe://cluster.local/ns/${ns}/sa/w${(i + d + 1) % count}`, dst_namespace: ns, dst_service: `w${(i + d + 1) % count}`, dst_external_workload: `w${(i + d + 1) % count}` })));
    for (const l of [labelString({ direction: 'inbound', peer: 'src', tls: 'true', client_id: 'spiffe://cluster.local/ns/x/sa/y' }), labelString({ direction: 'outbound', peer: 'src' })]) {
      m.tcpOpenTotal.cell(l).value = 100;
      m.tcpOpenConnections.cell(l).value = 3;
      m.tcpCloseTotal.cell(l).value = 97;
    }
    const server = http.createServer((_req, res) => {
      // Traffic since the last scrape: ~10 rps each way, some 500s, latencies 1-200 ms.
      for (const h of [...inbound, ...outbound]) {
        for (let k = 0; k < 50; k++) h.response(k % 25 === 0 ? 500 : 200, 1 + ((k * 37) % 200));
        h.request.value += 50;
      }
      res.end(m.render());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ports.push((server.address() as { port: number }).port);
  }
  process.send!({ ports, bytes: Buffer.byteLength(new ProxyMetrics().render()) });
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_CHILD: '1', BENCH_PROXIES: String(PROXIES) }, execArgv: ['--import', 'tsx'] });
  const { ports } = await new Promise<{ ports: number[] }>((r) => child.once('message', (m) => r(m as { ports: number[] })));
  const workloads: WorkloadInfo[] = ports.map((port, i) => ({
    key: `ns${i % 10}/w${i}`,
    labels: { namespace: `ns${i % 10}`, workload: `w${i}`, app: `w${i}`, workload_kind: 'externalworkload' },
    identity: `spiffe://cluster.local/ns/ns${i % 10}/sa/w${i}`,
    health: 'Ready',
    adminAddress: `127.0.0.1:${port}`,
    ports: [],
  }));
  const scraper = new Scraper({ intervalMs: INTERVAL_MS, clock: systemClock, log: silentLogger, workloads: () => workloads });
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await scraper.round();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    scraper.stop(); // round() schedules the next one; this bench drives rounds itself
    (scraper as unknown as { stopped: boolean }).stopped = false;
  }
  const text = await new Promise<string>((resolve) => http.get(`http://${workloads[0].adminAddress}/metrics`, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(b)); }));
  const series = [...scraper.targets.values()].reduce((a, t) => a + t.history.series.size, 0);
  const up = [...scraper.targets.values()].filter((t) => t.up).length;
  const steady = cpu.slice(1);
  const cpuPerRound = steady.reduce((a, b) => a + b, 0) / steady.length;

  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u', token: 'bench-token' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  const backend = new MemoryBackend(() => scraper.targets.values());
  const server = await startVizServer({
    host: '127.0.0.1',
    port: 0,
    trustAnchorsPem: () => '',
    auth: new AdminAuthenticator(kc, systemClock),
    sources: { backend, workloads: () => workloads, proxyUp: (w) => scraper.upWorkloads.has(w.key), serviceRoutes: () => [] },
    targetStatus: () => [],
    scrapeIntervalMs: INTERVAL_MS,
    log: silentLogger,
  });
  const agent = new http.Agent({ keepAlive: true });
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      http.get({ host: '127.0.0.1', port: server.port, path, agent, headers: { authorization: 'Bearer bench-token' } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}`))));
      }).on('error', reject);
    });
  const latency: Record<string, string> = {};
  for (const [name, path] of [
    ['stat ew -n ns3', '/api/stat?resource=ew&namespace=ns3'],
    ['stat ew -A (500 rows)', '/api/stat?resource=ew&all=true'],
    ['stat deploy/w3 -n ns3', '/api/stat?resource=deploy/w3&namespace=ns3'],
    ['stat ns -A -t 1h', '/api/stat?resource=ns&all=true&window=1h'],
    ['edges -A', '/api/edges?all=true'],
  ]) {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) times.push(await get(path));
    times.sort((a, b) => a - b);
    latency[name] = `p50 ${times[5].toFixed(1)} ms, max ${times[9].toFixed(1)} ms`;
  }
  agent.destroy();
  await server.close();
  scraper.stop();
  child.kill();
  const mem = process.memoryUsage();
  const rss = mem.rss / 1024 / 1024;
  console.log(`viz bench: ${PROXIES} fake proxies (${up} up), ${(text.length / 1024).toFixed(1)} KiB of metrics each, ${series} stored series`);
  console.log(`scrape round: wall ${wall.map((w) => w.toFixed(0)).join('/')} ms, CPU ${cpu.map((c) => c.toFixed(0)).join('/')} ms (first round allocates the rings)`);
  console.log(`CPU at one round every ${INTERVAL_MS / 1000} s: ${((cpuPerRound / INTERVAL_MS) * 100).toFixed(2)} % of one core (target < 10 %)`);
  console.log(`after ${ROUNDS} rounds: RSS ${rss.toFixed(0)} MiB (heap used ${(mem.heapUsed / 1024 / 1024).toFixed(0)} MiB, typed arrays ${(mem.arrayBuffers / 1024 / 1024).toFixed(0)} MiB)`);
  for (const [k, v] of Object.entries(latency)) console.log(`viz ${k}: ${v} (target < 200 ms)`);
}

if (process.env.BENCH_CHILD) await childMain();
else await main();
