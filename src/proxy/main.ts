// The proxy assembled: admin first (so /live answers at once), then — once credentials are held —
// inbound, outbound (HTTP proxy + per-upstream listeners) and tap. `drain` implements SIGTERM.
import type { Server, Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { ProxyConfig } from './config.js';
import type { ProxyContext } from './context.js';
import type { Credentials } from './types.js';
import { ProxyMetrics } from './metrics/proxy-metrics.js';
import { TapHub } from './tap/hub.js';
import { TlsState } from './tls/state.js';
import { adminServer } from './admin/server.js';
import { inboundServer, type InboundServer } from './inbound/server.js';
import { OutboundHttp } from './outbound/http.js';
import { outboundProxyServer, upstreamServer } from './outbound/listeners.js';
import { startTapServer } from './tap/server.js';
import type { ProxySeams } from './seams.js';
import { listenIpv6Twin } from './dual-stack.js';
import { ListenerSet } from './handover.js';
import { startDnsProxy } from './dns/server.js';

export interface RunningProxy {
  ctx: ProxyContext;
  ports: { admin: number; inbound: number; outbound: number; tap: number; dns?: number; upstreams: Record<string, number> };
  /** The SPIFFE Workload API's socket, when spiffe.enabled. */
  spiffeSocket?: string;
  ready(): boolean;
  /** Resolves once credentials are held and every listener is up. */
  started: Promise<void>;
  /** Stop accepting, let in-flight work finish within `graceMs`, then close everything. */
  drain(graceMs?: number): Promise<void>;
  /** A successor serves (handover.ts): close every listener, admin and tap too, and drain within `timeouts.drain`. */
  retire(): Promise<void>;
  /** Every listening socket by name, for the handover. */
  listeners: ListenerSet;
  close(): Promise<void>;
}

const SOCKETS = Symbol('outpost.sockets');
type TrackedServer = Server & { [SOCKETS]?: Set<Socket> };

/** Listens (on the predecessor's socket `name` when it handed one over) and tracks the server's connections. */
function listen(listeners: ListenerSet, name: string, server: Server, host: string, port: number): Promise<number> {
  const sockets = new Set<Socket>();
  (server as TrackedServer)[SOCKETS] = sockets;
  server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return listeners.tcp(name, server, host, port);
}

function closeServer(s: Server): Promise<void> {
  const done = new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
  for (const sock of (s as TrackedServer)[SOCKETS] ?? []) sock.destroy();
  return done;
}

export async function startProxy(
  config: ProxyConfig,
  seams: ProxySeams,
  opts: { log: Logger; clock?: Clock; onShutdown?: () => void; inherited?: ConstructorParameters<typeof ListenerSet>[0] },
): Promise<RunningProxy> {
  const listeners = new ListenerSet(opts.inherited);
  const log = opts.log;
  const metrics = new ProxyMetrics();
  const ctx: ProxyContext = {
    config,
    log,
    clock: opts.clock ?? systemClock,
    metrics,
    tap: new TapHub(),
    tls: new TlsState(seams.identity),
    identity: seams.identity,
    discovery: seams.discovery,
    policy: seams.policy,
    revocations: seams.revocations,
    workloadPorts: seams.workloadPorts,
    ownPorts: ownPortsOf(config),
    ownLocalClients: new Set(),
    draining: false,
    drainHooks: [],
  };
  metrics.registry.collect(() => {
    const c = ctx.tls.creds;
    const lines = ['# HELP identity_cert_expiration_timestamp_seconds Time when this proxy\'s current mTLS identity certificate will expire (in seconds since the UNIX epoch)', '# TYPE identity_cert_expiration_timestamp_seconds gauge'];
    if (c) lines.push(`identity_cert_expiration_timestamp_seconds ${Math.floor(c.notAfter / 1000)}`);
    const mem = process.memoryUsage();
    lines.push('# HELP process_resident_memory_bytes Resident memory size in bytes.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    return lines.join('\n');
  });

  const ports: RunningProxy['ports'] = { admin: 0, inbound: 0, outbound: 0, tap: 0, upstreams: {} };
  const servers: Server[] = [];
  let inbound: InboundServer | undefined;
  let outbound: OutboundHttp | undefined;
  let tap: { close(): void } | undefined;
  let dns: { close(): void } | undefined;
  let spiffe: { close(): Promise<void> } | undefined;
  let listening = false;
  let drained = false;

  const running: RunningProxy = {
    ctx,
    ports,
    listeners,
    retire: async () => {
      admin.close();
      tap?.close();
      dns?.close();
      await running.drain(config.timeouts.drainMs);
    },
    ready: () => listening && ctx.tls.ready() && !ctx.draining,
    started: Promise.resolve(),
    drain: async (graceMs = config.timeouts.shutdownGraceMs) => {
      if (drained) return;
      drained = true;
      ctx.draining = true;
      log.info('draining', { graceMs });
      inbound?.drain();
      for (const s of servers) if (s !== admin) s.close();
      for (const hook of ctx.drainHooks) hook();
      outbound?.drain();
      const watched = inbound ? [...servers.filter((s) => s !== admin), inbound.server] : servers.filter((s) => s !== admin);
      const deadline = ctx.clock.now() + graceMs;
      while (ctx.clock.now() < deadline && (await countConnections(watched)) > 0) await new Promise<void>((r) => ctx.clock.setTimeout(r, 50));
      await running.close();
      log.info('drained');
    },
    close: async () => {
      ctx.draining = true;
      tap?.close();
      dns?.close();
      await spiffe?.close();
      inbound?.destroy();
      outbound?.close();
      await Promise.all(servers.map(closeServer));
      ctx.tls.close();
      seams.close();
    },
  };

  const admin = adminServer(ctx, { ready: running.ready, shutdown: () => (opts.onShutdown ? opts.onShutdown() : void running.drain()) });
  servers.push(admin);
  ports.admin = await listen(listeners, 'admin', admin, config.admin.host, config.admin.port);
  ctx.ownPorts.set(ports.admin, 'admin');
  log.info('admin listening', { address: `${config.admin.host}:${ports.admin}` });

  const startRest = async () => {
    inbound = inboundServer(ctx);
    ports.inbound = await listen(listeners, 'inbound', inbound.server, config.inbound.host, config.inbound.port);
    const inbound6 = await listenIpv6Twin(listeners, 'inbound6', inbound.server, config.inbound.host, ports.inbound, log);
    if (inbound6) servers.push(inbound6);
    ctx.ownPorts.set(ports.inbound, 'inbound');
    outbound = new OutboundHttp(ctx);
    const proxy = outboundProxyServer(ctx, outbound);
    servers.push(proxy);
    ports.outbound = await listen(listeners, 'outbound', proxy, config.outbound.host, config.outbound.port);
    const outbound6 = await listenIpv6Twin(listeners, 'outbound6', proxy, config.outbound.host, ports.outbound, log, true);
    if (outbound6) servers.push(outbound6);
    ctx.ownPorts.set(ports.outbound, 'outbound');
    for (const u of config.upstreams) {
      const s = upstreamServer(ctx, outbound, u);
      servers.push(s);
      ports.upstreams[u.authority] = await listen(listeners, `upstream:${u.authority}`, s, u.listen.host, u.listen.port);
      ctx.ownPorts.set(ports.upstreams[u.authority], `upstream ${u.authority}`);
    }
    const d = await startDnsProxy(ctx, listeners);
    if (d) {
      dns = d;
      ports.dns = d.port;
      ctx.ownPorts.set(d.port, 'dns');
    }
    if (config.spiffe.enabled) {
      // Loaded only when enabled: the Workload API's gRPC server and JWT client are ~15 MB of RSS a proxy without it does not carry.
      const { startSpiffeWorkloadApi } = await import('./spiffe/server.js');
      const endpoint = config.identity.mode === 'controlPlane' ? config.identity.endpoint : undefined;
      const jwt = endpoint ? await import('./spiffe/jwt.js').then(async ({ jwtFromIdentityService }) => jwtFromIdentityService((await import('./identity/source.js')).identityAddress(endpoint), () => ctx.tls.creds)) : undefined;
      const s = await startSpiffeWorkloadApi({ socketPath: config.spiffe.socketPath, policy: { ownUid: process.getuid?.() ?? -1, allowedUids: config.spiffe.allowedUids }, feed: ctx.tls, jwt, log: log.child('spiffe') });
      spiffe = s;
      running.spiffeSocket = s.socketPath;
    }
    const t = await startTapServer(ctx, listeners);
    tap = t;
    ports.tap = t.port;
    ctx.ownPorts.set(t.port, 'tap');
    listeners.closeUnclaimed();
    listening = true;
    log.info('proxy listening', { identity: ctx.tls.creds?.identity, inbound: ports.inbound, outbound: ports.outbound, tap: ports.tap, dns: ports.dns, upstreams: ports.upstreams });
  };
  running.started = ctx.tls.ready()
    ? startRest()
    : new Promise<void>((resolve, reject) => {
        log.info('waiting for an identity certificate');
        const off = ctx.tls.onRotate((_c: Credentials) => {
          off();
          startRest().then(resolve, reject);
        });
      });
  running.started.catch((e) => log.error('proxy failed to start', { reason: (e as Error).message }));
  return running;
}

/** The listening ports the config names (0 = chosen at listen, added then). */
function ownPortsOf(config: ProxyConfig): Map<number, string> {
  const own = new Map<number, string>();
  const add = (port: number, role: string) => port > 0 && !own.has(port) && own.set(port, role);
  add(config.admin.port, 'admin');
  add(config.inbound.port, 'inbound');
  add(config.outbound.port, 'outbound');
  add(config.tap.port, 'tap');
  for (const u of config.upstreams) add(u.listen.port, `upstream ${u.authority}`);
  if (config.dns) add(config.dns.port, 'dns');
  return own;
}

async function countConnections(servers: Server[]): Promise<number> {
  const counts = await Promise.all(servers.map((s) => new Promise<number>((resolve) => s.getConnections((err, n) => resolve(err ? 0 : n)))));
  return counts.reduce((a, b) => a + b, 0);
}
