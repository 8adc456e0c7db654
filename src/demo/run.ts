// `outpost demo`, orchestrated: control plane in this process, the workloads' network (namespaces
// or loopback addresses), the guide's hybrid-app objects, one onboarding bundle per workload, each
// workload's app and `outpost proxy`, then traffic with a live table until interrupted; cleanup
// removes every process and network object it created (the data dir and API objects stay).
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, type RunningControlPlane } from '../controlplane/start.js';
import { componentPortFlags, type ControlPlaneFlags } from '../controlplane/flags.js';
import { OutpostError } from '../core/errors.js';
import { defaultDataDir, readIfExists } from '../core/files.js';
import type { Logger } from '../core/log.js';
import { controlPlaneEndpoints } from '../workload/endpoints.js';
import { onboardWorkload } from '../workload/onboard.js';
import { validateOnboardRequest } from '../workload/request.js';
import { defaultLayout, type ProxyLayout } from '../workload/bundle.js';
import { applyHybridApp, demoWorkloads, DEMO_NAMESPACE, SERVICE_PORTS, type DemoWorkload } from './hybrid-app.js';
import { canUseNetns, createNetwork, planAddresses, destroyNetwork, type CreatedNetwork, type DemoHost, type DemoNetwork } from './network.js';
import { cleanStaleRun, logTail, saveRunState, spawnDemoChild, stopChildren, type DemoChild } from './processes.js';
import { isReady, proxyCounters, rates, scrape, type ProxyCounters } from './metrics.js';
import type { AppStats } from './apps/app.js';
import { formatSummary, formatTable, summarise, type DemoSummary } from './report.js';
import { hostPort } from '../core/host-port.js';

export interface DemoOptions {
  dataDir: string;
  apiPort: number;
  /** Every control-plane port free (tests); otherwise the defaults, so other commands need no flags. */
  freePorts: boolean;
  netns: boolean;
  subnet?: string;
  portOffset: number;
  /** Length of the traffic phase; undefined = until the signal aborts. */
  durationMs?: number;
  intervalMs: number;
  rate: number;
  signal: AbortSignal;
  out: (line: string) => void;
  log: Logger;
}

const INTRUDER_PORT = 15432;
const READY_TIMEOUT_MS = 120_000;

class Cancelled extends Error {}

function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
    s.listen(port, host, () => s.close(() => resolve(false)));
  });
}

/** The default ports must be free, else say which and what to do (before starting anything). */
export async function checkPorts(ports: [string, string, number][]): Promise<void> {
  const busy: string[] = [];
  for (const [what, host, port] of ports) if (port && (await portInUse(host, port))) busy.push(`${port} (${what})`);
  if (busy.length) {
    throw new OutpostError('INVALID_ARGUMENT', `ports in use on this machine: ${busy.join(', ')}`, {
      hint: 'is `outpost up` or another demo running? stop it, or run `outpost demo --free-ports` (then pass --data-dir to other commands) / --port-offset N for the apps',
    });
  }
}

/** The proxy layout of one demo workload: ports on its own address, files in its bundle dir. */
function demoLayout(mode: DemoNetwork['mode'], host: DemoHost, w: DemoWorkload, bundleDir: string): ProxyLayout {
  const local = mode === 'netns' ? '127.0.0.1' : host.address; // the app side of the proxy
  const base = defaultLayout({ inboundPort: 4143 });
  const upstreams: ProxyLayout['upstreams'] = [];
  if (w.app === 'api-server') {
    upstreams.push({ service: `postgres.${DEMO_NAMESPACE}.svc.cluster.local`, port: SERVICE_PORTS.postgres, listen: hostPort(local, SERVICE_PORTS.postgres), protocol: 'opaque' });
    upstreams.push({ service: `redis.${DEMO_NAMESPACE}.svc.cluster.local`, port: SERVICE_PORTS.redis, listen: hostPort(local, SERVICE_PORTS.redis), protocol: 'opaque' });
  }
  if (w.app === 'redis') upstreams.push({ service: `postgres.${DEMO_NAMESPACE}.svc.cluster.local`, port: SERVICE_PORTS.postgres, listen: hostPort(local, INTRUDER_PORT), protocol: 'opaque' });
  return {
    ...base,
    installDir: bundleDir,
    stateDir: join(bundleDir, 'state'),
    admin: { host: host.address, port: 4191 },
    inbound: { host: host.address, port: 4143 },
    outbound: { host: local, port: 4140 },
    tap: { host: host.address, port: 4190 },
    dns: { host: local, port: 4153 },
    upstreams,
    shutdownGrace: '1s',
  };
}

function appArgs(mode: DemoNetwork['mode'], host: DemoHost, w: DemoWorkload, rate: number, demoDir: string): string[] {
  const local = mode === 'netns' ? '127.0.0.1' : host.address;
  const args = ['demo', 'app', '--kind', w.app, '--listen', `127.0.0.1:${w.port.port}`, '--instance', demoDir];
  if (w.probes?.[0]) args.push('--health-port', String(w.probes[0].port));
  if (w.app === 'api-server') {
    args.push('--postgres', hostPort(local, SERVICE_PORTS.postgres), '--redis', hostPort(local, SERVICE_PORTS.redis), '--rate', String(rate));
    args.push('--via-proxy', hostPort(local, 4140), '--authority', `api-server.${DEMO_NAMESPACE}.svc.cluster.local:${SERVICE_PORTS['api-server']}`);
  }
  if (w.app === 'redis') args.push('--intruder-target', hostPort(local, INTRUDER_PORT));
  return args;
}

/** A live control plane (`outpost up` or another demo) holds this data dir: say so, touch nothing. */
function refuseIfRunning(dataDir: string): void {
  const pid = Number(readIfExists(join(dataDir, 'outpost.lock')));
  if (!pid || pid === process.pid) return;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return; // stale lock
  }
  throw new OutpostError('DATA_DIR_LOCKED', `the data dir ${dataDir} is in use by a running control plane (pid ${pid})`, { hint: 'stop it (`outpost up` or another demo), or pass --data-dir' });
}

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const out = opts.out;
  const demoDir = join(opts.dataDir, 'demo');
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });
  refuseIfRunning(opts.dataDir); // before touching what another live demo on this data dir owns
  const stale = cleanStaleRun(demoDir);
  if (stale.length) out(`  (removed what an interrupted demo left behind: ${stale.join(', ')})`);
  const workloads = demoWorkloads(opts.portOffset);
  const mode: DemoNetwork['mode'] = opts.netns && canUseNetns() ? 'netns' : 'loopback';
  const listen = mode === 'netns' ? '0.0.0.0' : '127.0.0.1';
  const subnet = opts.subnet ?? (mode === 'netns' ? '198.18.0.0/24' : '127.0.10.0/24');
  planAddresses(mode, subnet, workloads.map((w) => w.name)); // bad --subnet fails before anything starts
  const created: CreatedNetwork = { netns: [], links: [] };
  const children: DemoChild[] = [];
  const persist = () => saveRunState(demoDir, { pids: children.map((c) => c.child.pid!).filter(Boolean), netns: created.netns, links: created.links });
  const check = () => {
    if (opts.signal.aborted) throw new Cancelled('interrupted');
  };
  let cp: RunningControlPlane | undefined;
  const stats: Record<string, AppStats> = {};
  try {
    const portFlags = componentPortFlags();
    const cpFlags: Partial<ControlPlaneFlags> = opts.freePorts ? Object.fromEntries(portFlags.map(([n]) => [n, 0])) : {};
    const toCheck: [string, string, number][] = opts.freePorts ? [] : [['API', listen, opts.apiPort], ...portFlags.map(([n, def]) => [n.replace(/-port$/, ''), listen, def] as [string, string, number])];
    if (mode === 'loopback') {
      for (const w of workloads) toCheck.push([`${w.name} app`, '127.0.0.1', w.port.port], ...(w.probes ?? []).map((p) => [`${w.name} health`, '127.0.0.1', p.port] as [string, string, number]));
    }
    await checkPorts(toCheck);

    out(`[1/6] control plane    starting (data dir ${opts.dataDir})`);
    cp = await startControlPlane({ dataDir: opts.dataDir, listen, apiPort: opts.freePorts ? 0 : opts.apiPort, flags: cpFlags, log: opts.log });
    out(`      API ${cp.info.listeners.api}, ${['identity', 'destination', 'policy', 'health'].map((k) => `${k} ${cp!.info.listeners[k] ?? '-'}`).join(', ')}`);
    check();

    const net = createNetwork(mode, subnet, workloads.map((w) => w.name), created);
    persist();
    out(`[2/6] network          ${mode === 'netns' ? `one network namespace per workload on bridge ${net.bridge} (${net.gateway})` : 'loopback addresses (run as root for network namespaces)'}: ${net.hosts.map((h) => `${h.workload} ${h.address}`).join(', ')}`);
    check();

    await applyHybridApp(cp.kubeConfig, opts.portOffset);
    out(`[3/6] hybrid-app       namespace ${DEMO_NAMESPACE}, Services postgres and redis, Server postgres-server + ServerAuthorization postgres-auth (only api-server may reach postgres), HTTPRoute orders on Service api-server`);

    const endpoints = controlPlaneEndpoints(cp.info.listeners, cp.info.listeners.api, mode === 'netns' ? net.gateway : undefined);
    const hostOf = (w: DemoWorkload) => net.hosts.find((h) => h.workload === w.name)!;
    for (const w of workloads) {
      const host = hostOf(w);
      const req = validateOnboardRequest({ name: w.name, namespace: DEMO_NAMESPACE, ip: host.address, ports: [`${w.port.name}:${w.port.port}`], labels: Object.entries(w.labels).map(([k, v]) => `${k}=${v}`) });
      const bundleDir = join(demoDir, w.name);
      const r = await onboardWorkload(req, { kubeConfig: cp.kubeConfig, endpoints, layout: demoLayout(mode, host, w, bundleDir), bundleDir, probes: w.probes });
      out(`[4/6] onboarded        ${w.name.padEnd(17)} externalworkload ${r.workload}, serviceaccount ${w.name} ${r.serviceAccount}, bundle ${bundleDir}`);
    }
    check();

    const startApp = (w: DemoWorkload) => {
      const host = hostOf(w);
      children.push(
        spawnDemoChild(`${w.name} app`, net.execPrefix(host), appArgs(mode, host, w, opts.rate, demoDir), join(demoDir, w.name, 'app.log'), (line) => {
          try {
            stats[w.name] = JSON.parse(line) as AppStats;
          } catch {}
        }),
      );
    };
    // Servers and proxies first; the api-server (the load) once every proxy holds its certificate.
    for (const w of workloads) {
      if (w.app !== 'api-server') startApp(w);
      children.push(spawnDemoChild(`${w.name} proxy`, net.execPrefix(hostOf(w)), ['proxy', '--config', join(demoDir, w.name, 'proxy-config.yaml')], join(demoDir, w.name, 'proxy.log')));
    }
    persist();
    out(`[5/6] workloads        apps (postgres wire protocol, Redis RESP, api-server) and one outpost proxy each started; waiting for certificates`);
    const pending = new Set(workloads.map((w) => w.name));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (pending.size) {
      check();
      const dead = children.find((c) => c.exited);
      if (dead) throw new OutpostError('INTERNAL', `${dead.name} exited during startup; its log (${dead.logFile}):\n${logTail(dead.logFile)}`, { hint: 'the log above says why' });
      if (Date.now() > deadline) {
        const w = [...pending][0];
        throw new OutpostError('INTERNAL', `the proxy of ${[...pending].join(', ')} is not ready after ${READY_TIMEOUT_MS / 1000}s; its log:\n${logTail(join(demoDir, w, 'proxy.log'))}`, { hint: 'the log above says why' });
      }
      for (const w of workloads) {
        if (pending.has(w.name) && (await isReady(hostPort(hostOf(w).address, 4191)))) {
          pending.delete(w.name);
          out(`      ${w.name.padEnd(17)} proxy ready (mTLS certificate issued; admin http://${hostPort(hostOf(w).address, 4191)}/metrics)`);
        }
      }
      if (pending.size) await sleep(500, opts.signal);
    }

    for (const w of workloads) if (w.app === 'api-server') startApp(w);
    persist();
    out(`[6/6] traffic          api-server → postgres and redis through mTLS (${opts.rate} order lookups/s); redis-cache also tries postgres, which the policy refuses`);
    const defaultDir = opts.dataDir === defaultDataDir();
    out(`      try: kubectl --kubeconfig ${cp.kubeconfigPath} get externalworkloads,endpointslices -n ${DEMO_NAMESPACE}`);
    if (!defaultDir) out(`           export OUTPOST_DATA_DIR=${opts.dataDir}   (for the outpost commands below)`);
    out(`           outpost check  ·  outpost viz stat externalworkload -n ${DEMO_NAMESPACE}  ·  outpost viz routes svc/api-server -n ${DEMO_NAMESPACE}`);
    out(`           outpost explain externalworkload/postgres-primary -n ${DEMO_NAMESPACE}  ·  outpost dashboard`);
    out('      Ctrl-C stops the demo and cleans up.');
    const started = Date.now();
    let prev: Record<string, ProxyCounters | undefined> = {};
    let prevAt = Date.now();
    let summary = summarise(stats, {});
    while (!opts.signal.aborted && (opts.durationMs === undefined || Date.now() - started < opts.durationMs)) {
      const wait = Math.min(opts.intervalMs, opts.durationMs === undefined ? opts.intervalMs : Math.max(0, opts.durationMs - (Date.now() - started)));
      await sleep(wait, opts.signal);
      const now = Date.now();
      const counters: Record<string, ProxyCounters | undefined> = {};
      for (const w of workloads) {
        const samples = await scrape(hostPort(hostOf(w).address, 4191));
        counters[w.name] = samples ? proxyCounters(samples) : undefined;
      }
      const secs = Math.max(0.001, (now - prevAt) / 1000);
      const rows = workloads.map((w) => ({ workload: w.name, rates: counters[w.name] ? rates(prev[w.name], counters[w.name]!, secs) : undefined }));
      const previous = summary;
      summary = summarise(stats, counters, previous);
      for (const line of formatTable(Math.round((now - started) / 1000), rows, stats, summary, previous)) out(line);
      const dead = children.find((c) => c.exited);
      if (dead) out(`      ! ${dead.name} exited; its log (${dead.logFile}):\n${logTail(dead.logFile)}`);
      prev = counters;
      prevAt = now;
    }
    out(formatSummary(summary));
    return summary;
  } catch (e) {
    if (e instanceof Cancelled) {
      const s = summarise(stats, {});
      out('interrupted during startup');
      return s;
    }
    throw e;
  } finally {
    if (cp || children.length || created.netns.length) out('Stopping: proxies and apps, network namespaces, control plane');
    await stopChildren(children);
    const problems = destroyNetwork(created);
    for (const p of problems) out(`  ! could not remove ${p}`);
    saveRunState(demoDir, { pids: [], netns: [], links: [] });
    if (cp) await cp.stop();
    if (cp) out(`Stopped. The data dir stays (${opts.dataDir}): the next \`outpost demo\` reuses it.`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
