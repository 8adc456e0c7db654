// Quick local benchmark: direct vs an Outpost proxy pair on loopback (HTTP keep-alive, a new
// connection per request, opaque TCP, added p50 at a fixed rate), with a Node load generator.
// Run: npm run build && node --import tsx bench/proxy/quick.ts [seconds=3] [connections=50]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRootCA, createIntermediateCA, issueLeaf } from '../../src/core/pki.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const SECONDS = Number(process.argv[2] ?? 3);
const CONNS = Number(process.argv[3] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-'));
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BACKEND = `const http=require('http');const net=require('net');
http.createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain','content-length':19});s.end('hello from backend\\n')}).listen(+process.argv[1],'127.0.0.1');
net.createServer((c)=>c.on('data',(d)=>c.write(d))).listen(+process.argv[2],'127.0.0.1');`;

async function certs() {
  const root = await createRootCA({ commonName: 'bench root', lifetimeMs: 86_400_000 });
  const issuer = await createIntermediateCA(root, { commonName: 'bench issuer', lifetimeMs: 86_400_000 });
  writeFileSync(join(dir, 'ca.pem'), root.certPem);
  for (const name of ['server', 'client']) {
    const leaf = await issueLeaf(issuer, { commonName: `${name}.mesh.local`, sans: { uris: [`spiffe://mesh.local/ns/default/sa/${name}`], dns: [`${name}.mesh.local`] }, lifetimeMs: 3_600_000 });
    writeFileSync(join(dir, `${name}.crt`), leaf.certPem + '\n' + issuer.certPem);
    writeFileSync(join(dir, `${name}.key`), leaf.keyPem!, { mode: 0o600 });
  }
}

function proxyConfig(name: string, base: number, upstreams: unknown[]): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify({
    admin: { port: base }, inbound: { port: base + 1, address: '127.0.0.1' }, outbound: { port: base + 2 }, tap: { port: base + 3, address: '127.0.0.1' },
    identity: { trustAnchors: join(dir, 'ca.pem'), certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) },
    log: { level: 'warn' }, upstreams,
  }));
  return file;
}

function start(args: string[], nodeFlags: string[] = []): ChildProcess {
  const c = spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT });
  children.push(c);
  return c;
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`port ${port} never opened`);
}

function cpuTicks(pids: number[]): number {
  let t = 0;
  for (const p of pids) {
    const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
    t += Number(f[11]) + Number(f[12]);
  }
  return t;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Closed-loop HTTP load: `conns` loops for `seconds`; keepAlive=false opens a connection per request. */
async function httpLoad(port: number, seconds: number, conns: number, keepAlive: boolean) {
  const agent = new Agent({ keepAlive, maxSockets: conns, noDelay: true });
  let n = 0;
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: keepAlive ? {} : { connection: 'close' } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) n++;
          else errors++;
          resolve();
        });
      });
      req.on('error', () => (errors++, resolve()));
      req.end();
    });
  await Promise.all(Array.from({ length: conns }, async () => {
    while (Date.now() < end) await one();
  }));
  agent.destroy();
  return { rps: n / seconds, errors };
}

/** Fixed rate: `rate` req/s over 10 keep-alive connections; returns the p50 latency in ms. */
async function fixedRate(port: number, seconds: number, rate: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 10, noDelay: true });
  const lat: number[] = [];
  const interval = 1000 / rate;
  const end = Date.now() + seconds * 1000;
  const pending: Promise<void>[] = [];
  let next = performance.now();
  while (Date.now() < end) {
    const t0 = performance.now();
    pending.push(new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => (lat.push(performance.now() - t0), resolve()));
      });
      req.on('error', () => resolve());
      req.end();
    }));
    next += interval;
    const wait = next - performance.now();
    if (wait > 1) await sleep(wait);
    else if (pending.length % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(pending);
  agent.destroy();
  lat.sort((a, b) => a - b);
  return lat[Math.floor(lat.length / 2)] ?? NaN;
}

/** Opaque TCP echo load: `conns` connections ping-ponging 19 bytes. */
async function tcpLoad(port: number, seconds: number, conns: number) {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  const msg = Buffer.from('hello from client!\n');
  await Promise.all(Array.from({ length: conns }, () => new Promise<void>((resolve) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    let got = 0;
    s.on('connect', () => s.write(msg));
    s.on('data', (d) => {
      got += d.length;
      while (got >= msg.length) {
        got -= msg.length;
        n++;
        if (Date.now() >= end) return void s.end();
        s.write(msg);
      }
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  })));
  return { rps: n / seconds };
}

async function main() {
  await certs();
  const backendHttp = 18080;
  const backendTcp = 18081;
  start(['-e', BACKEND, String(backendHttp), String(backendTcp)]);
  const ep = (port: number) => ({ address: '127.0.0.1', port, inboundPort: 18101, identity: 'spiffe://mesh.local/ns/default/sa/server', serverName: 'server.mesh.local' });
  const cli = join(ROOT, 'bin', 'outpost.js');
  // OUTPOST_BENCH_PROFILE=DIR writes a CPU profile of each proxy (on exit) into DIR.
  // OUTPOST_BENCH_NODE_FLAGS adds node flags to both proxies (e.g. --max-semi-space-size=2).
  const prof = [...(process.env.OUTPOST_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.OUTPOST_BENCH_PROFILE}`] : []), ...(process.env.OUTPOST_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
  const server = start([cli, 'proxy', '--config', proxyConfig('server', 18100, [])], prof);
  const client = start([cli, 'proxy', '--config', proxyConfig('client', 18200, [
    { name: 'bench-http', listen: '127.0.0.1:18300', endpoints: [ep(backendHttp)] },
    { name: 'bench-tcp', listen: '127.0.0.1:18301', protocol: 'opaque', endpoints: [ep(backendTcp)] },
  ])], prof);
  // The anchors' plain-Node pairs (node-http: HTTP/1.1 keep-alive mTLS; node-pipe: TLS pipe), same certs.
  const anchors = '/work/shared/bench/anchors/node';
  const haveAnchors = existsSync(join(anchors, 'http-proxy.js'));
  const anchorPids: number[] = [];
  if (haveAnchors) {
    anchorPids.push(start([join(anchors, 'http-proxy.js'), 'server', '127.0.0.1:18402', `127.0.0.1:${backendHttp}`, dir]).pid!);
    anchorPids.push(start([join(anchors, 'http-proxy.js'), 'client', '127.0.0.1:18401', '127.0.0.1:18402', dir]).pid!);
    anchorPids.push(start([join(anchors, 'tls-pipe.js'), 'server', '127.0.0.1:18412', `127.0.0.1:${backendTcp}`, dir]).pid!);
    anchorPids.push(start([join(anchors, 'tls-pipe.js'), 'client', '127.0.0.1:18411', '127.0.0.1:18412', dir]).pid!);
  }
  for (const p of [backendHttp, backendTcp, 18101, 18300, 18301, ...(haveAnchors ? [18401, 18411] : [])]) await waitPort(p);
  const pids = [client.pid!, server.pid!];
  // Warm-up (JIT, pools, TLS sessions).
  await httpLoad(18300, 1, CONNS, true);
  await tcpLoad(18301, 1, CONNS);
  if (haveAnchors) await httpLoad(18401, 1, CONNS, true);
  const REPS = Number(process.env.REPS ?? 3);
  const cpuOf = async (procs: number[], run: () => Promise<{ rps: number }>) => {
    const c0 = cpuTicks(procs);
    const r = await run();
    return { rps: r.rps, cpuUs: (((cpuTicks(procs) - c0) / 100) * 1e6) / Math.max(1, r.rps * SECONDS) }; // CLK_TCK=100
  };
  type Rep = Record<string, { rps: number; cpuUs: number }>;
  const reps: Rep[] = [];
  const p50s: { direct: number; pair: number }[] = [];
  for (let rep = 1; rep <= REPS; rep++) {
    const r: Rep = {};
    // Direct first in every repetition, then the proxies (like the anchors' run.sh), so drift hits all alike.
    r.direct = await cpuOf([], () => httpLoad(backendHttp, SECONDS, CONNS, true));
    r.pair = await cpuOf(pids, () => httpLoad(18300, SECONDS, CONNS, true));
    r.directClose = await cpuOf([], () => httpLoad(backendHttp, SECONDS, CONNS, false));
    r.pairClose = await cpuOf(pids, () => httpLoad(18300, SECONDS, CONNS, false));
    r.directTcp = await cpuOf([], () => tcpLoad(backendTcp, SECONDS, CONNS));
    r.pairTcp = await cpuOf(pids, () => tcpLoad(18301, SECONDS, CONNS));
    if (haveAnchors) {
      r.nodeHttp = await cpuOf(anchorPids.slice(0, 2), () => httpLoad(18401, SECONDS, CONNS, true));
      r.nodePipe = await cpuOf(anchorPids.slice(2), () => tcpLoad(18411, SECONDS, CONNS));
    }
    p50s.push({ direct: await fixedRate(backendHttp, 2, 1000), pair: await fixedRate(18300, 2, 1000) });
    reps.push(r);
    console.error(`rep ${rep}/${REPS}: ` + Object.entries(r).map(([k, v]) => `${k}=${Math.round(v.rps)}`).join(' '));
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratio = (a: string, b: string) => median(reps.map((r) => r[a].rps / r[b].rps)).toFixed(2);
  const med = (k: string, f: 'rps' | 'cpuUs') => median(reps.map((r) => r[k][f]));
  const rss = pids.map(rssMb);
  console.log(`\nOutpost proxy quick bench: medians of ${REPS} interleaved repetitions, ${SECONDS}s per run, ${CONNS} connections, Node load generator\n`);
  console.log('| run | req/s | ratio vs direct | CPU per request, both proxies |\n|---|---:|---:|---:|');
  const row = (label: string, k: string, base: string, cpu: boolean) => console.log(`| ${label} | ${Math.round(med(k, 'rps'))} | ${k === base ? '1.00' : ratio(k, base)} | ${cpu ? Math.round(med(k, 'cpuUs')) + ' µs' : '–'} |`);
  row('direct HTTP keep-alive', 'direct', 'direct', false);
  row('Outpost pair HTTP keep-alive', 'pair', 'direct', true);
  if (haveAnchors) row('anchor node-http pair HTTP keep-alive', 'nodeHttp', 'direct', true);
  row('direct HTTP new connection per request', 'directClose', 'directClose', false);
  row('Outpost pair HTTP new connection per request', 'pairClose', 'directClose', true);
  row('direct TCP echo', 'directTcp', 'directTcp', false);
  row('Outpost pair opaque TCP echo', 'pairTcp', 'directTcp', true);
  if (haveAnchors) row('anchor node-pipe pair TCP echo', 'nodePipe', 'directTcp', true);
  const added = median(p50s.map((p) => p.pair - p.direct));
  console.log(`\np50 at 1,000 req/s: direct ${median(p50s.map((p) => p.direct)).toFixed(2)} ms, pair ${median(p50s.map((p) => p.pair)).toFixed(2)} ms, added ${added.toFixed(2)} ms`);
  console.log(`proxy RSS after load: client ${rss[0].toFixed(0)} MB, server ${rss[1].toFixed(0)} MB`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of children.slice(1)) c.kill('SIGTERM');
    await sleep(process.env.OUTPOST_BENCH_PROFILE ? 3000 : 300);
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
