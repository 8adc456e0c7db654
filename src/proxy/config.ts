// The proxy's one configuration module (the only reader of process.env in the proxy): the guide's
// proxy-config.yaml plus OUTPOST_PROXY_* overrides, all parsed up front, every bad value reported at once.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OutpostError } from '../core/errors.js';
import { parseDuration } from '../core/flags.js';
import { isLogLevel, type LogLevel } from '../core/log.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface StaticEndpointConfig {
  address: string;
  port: number;
  inboundPort: number;
  identity?: string;
  serverName?: string;
  weight: number;
}

export interface UpstreamConfig {
  /** Logical name: `service` (resolved through discovery) or `name` (static endpoints). */
  authority: string;
  listen: HostPort;
  /** Static endpoints; undefined = resolve `authority` through discovery. */
  endpoints?: StaticEndpointConfig[];
  protocol: 'detect' | 'opaque';
}

export interface PortPolicyConfig {
  port: number;
  protocol: 'detect' | 'opaque' | 'http1' | 'http2';
  /** Allowed client identities ('*' any authenticated, '*.suffix' suffix). */
  identities: string[];
}

export interface ProxyConfig {
  /** shutdownEnabled: POST /shutdown answers (from loopback only); off by default, like Linkerd after CVE-2024-40632. */
  admin: HostPort & { shutdownEnabled: boolean };
  /** ports: local app ports the inbound may forward to, besides the workload's declared ones (docs/proxy.md). */
  inbound: HostPort & { ports: number[] };
  outbound: HostPort & { http1Transport: 'http1' | 'h2' };
  tap: HostPort & { identities: string[] };
  identity: {
    trustAnchors?: string;
    /** The trust anchors themselves (PEM), as the injector passes them to a pod's proxy; wins over trustAnchors. */
    trustAnchorsPem?: string;
    tokenPath?: string;
    endpoint?: HostPort;
    dir: string;
    certFile?: string;
    keyFile?: string;
    /** files: certFile/keyFile watched and reloaded; controlPlane: bootstrap with the token. */
    mode: 'files' | 'controlPlane';
    reloadIntervalMs: number;
  };
  destination: { endpoint?: HostPort };
  policy: { endpoint?: HostPort; default: 'all-authenticated' | 'deny'; ports: PortPolicyConfig[] };
  health: { endpoint?: HostPort };
  /** name, or (auto-registration, docs/adr/0010) group + address: the identity service names the workload. */
  workload: { name?: string; namespace?: string; group?: string; address?: string; /** Pod: an injected proxy (no health stream; the kubelet probes). */ kind?: 'ExternalWorkload' | 'Pod' };
  upstreams: UpstreamConfig[];
  /** The DNS proxy (dns.port set): Service names answered with cluster IPs, the rest forwarded to resolvConf's servers. */
  dns?: { host: string; port: number; clusterDomain: string; resolvConf: string };
  /** The SPIFFE Workload API on a Unix socket (docs/identity.md); off unless spiffe.enabled (docs/adr/0023). */
  spiffe: { enabled: boolean; socketPath: string; allowedUids: number[] };
  timeouts: { connectMs: number; requestMs: number; idleMs: number; detectMs: number; shutdownGraceMs: number; tlsHandshakeMs: number; headerMs: number; drainMs: number };
  /** Connections accepted but not established yet (handshake, first request), per client address, on the inbound, admin and tap listeners. */
  listeners: { maxPendingPerClient: number };
  log: { level: LogLevel; format: 'text' | 'json' };
}

type Kind = 'uidList' | 'workloadKind' | 'transport' | 'port' | 'portList' | 'bool' | 'count' | 'host' | 'hostport' | 'path' | 'string' | 'duration' | 'level' | 'format' | 'list' | 'upstreams' | 'portPolicies' | 'defaultPolicy';

/** Every setting: its YAML path (env name derived: OUTPOST_PROXY_ + path in UPPER_SNAKE). */
const SETTINGS: [string, Kind][] = [
  ['admin.port', 'port'], ['admin.address', 'host'], ['admin.shutdownEnabled', 'bool'],
  ['inbound.port', 'port'], ['inbound.address', 'host'], ['inbound.ports', 'portList'],
  ['outbound.port', 'port'], ['outbound.address', 'host'], ['outbound.http1Transport', 'transport'],
  ['tap.port', 'port'], ['tap.address', 'host'], ['tap.identities', 'list'],
  ['identity.trustAnchors', 'path'], ['identity.trustAnchorsPem', 'string'], ['identity.tokenPath', 'path'], ['identity.endpoint', 'hostport'],
  ['identity.dir', 'path'], ['identity.certFile', 'path'], ['identity.keyFile', 'path'], ['identity.reloadInterval', 'duration'],
  ['destination.endpoint', 'hostport'],
  ['policy.endpoint', 'hostport'], ['policy.default', 'defaultPolicy'], ['policy.ports', 'portPolicies'],
  ['health.endpoint', 'hostport'],
  ['workload.name', 'string'], ['workload.namespace', 'string'], ['workload.kind', 'workloadKind'], ['workload.group', 'string'], ['workload.address', 'string'],
  ['upstreams', 'upstreams'],
  ['spiffe.enabled', 'bool'], ['spiffe.socketPath', 'path'], ['spiffe.allowedUids', 'uidList'],
  ['dns.port', 'port'], ['dns.address', 'host'], ['dns.clusterDomain', 'string'], ['dns.resolvConf', 'path'],
  ['timeouts.connect', 'duration'], ['timeouts.request', 'duration'], ['timeouts.idle', 'duration'],
  ['timeouts.detect', 'duration'], ['timeouts.shutdownGrace', 'duration'], ['timeouts.tlsHandshake', 'duration'], ['timeouts.header', 'duration'], ['timeouts.drain', 'duration'],
  ['listeners.maxPendingPerClient', 'count'],
  ['log.level', 'level'], ['log.format', 'format'],
];

export function envName(path: string): string {
  return 'OUTPOST_PROXY_' + path.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase();
}

/** Reads FILE (optional) and the environment; throws CONFIG_INVALID listing every problem, one per line. */
export function loadProxyConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const errors: string[] = [];
  let doc: Record<string, unknown> = {};
  const path = file ?? env.OUTPOST_PROXY_CONFIG;
  if (path) {
    try {
      const parsed = parseYaml(readFileSync(path, 'utf8')) as unknown;
      if (parsed !== null && parsed !== undefined && typeof parsed !== 'object') errors.push(`${path}: must be a YAML mapping`);
      else doc = (parsed as Record<string, unknown>) ?? {};
    } catch (e) {
      throw new OutpostError('CONFIG_INVALID', `cannot read proxy config ${path}: ${(e as Error).message}`, { field: 'config' });
    }
  }
  return parseProxyConfig(doc, env, errors);
}

/** Pure: a parsed YAML document plus environment to a config, or CONFIG_INVALID with all problems. */
export function parseProxyConfig(doc: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, errors: string[] = []): ProxyConfig {
  const values = new Map<string, unknown>();
  for (const [path, kind] of SETTINGS) {
    const fromEnv = env[envName(path)];
    let raw: unknown = fromEnv !== undefined ? fromEnv : lookup(doc, path);
    if (raw === undefined || raw === null || raw === '') continue;
    const where = fromEnv !== undefined ? ` (from ${envName(path)})` : '';
    if (fromEnv !== undefined && (kind === 'upstreams' || kind === 'portPolicies')) {
      try {
        raw = JSON.parse(fromEnv);
      } catch {
        errors.push(`${path}: expected JSON${where}`);
        continue;
      }
    }
    const r = parseValue(kind, raw, path);
    if (typeof r === 'object' && r !== null && 'error' in r) errors.push(`${(r as { error: string }).error}${where}`);
    else values.set(path, r);
  }
  const get = <T>(p: string, d: T): T => (values.has(p) ? (values.get(p) as T) : d);

  const destination = get<HostPort | undefined>('destination.endpoint', undefined);
  const dhost = destination?.host;
  const certFile = get<string | undefined>('identity.certFile', undefined);
  const keyFile = get<string | undefined>('identity.keyFile', undefined);
  const tokenPath = get<string | undefined>('identity.tokenPath', undefined);
  const trustAnchors = get<string | undefined>('identity.trustAnchors', undefined);
  const trustAnchorsPem = get<string | undefined>('identity.trustAnchorsPem', undefined);
  const workloadKind = get<'ExternalWorkload' | 'Pod'>('workload.kind', 'ExternalWorkload');
  const mode: 'files' | 'controlPlane' = certFile || keyFile ? 'files' : 'controlPlane';
  if (mode === 'files' && !(certFile && keyFile)) errors.push('identity: certFile and keyFile must be set together');
  if (!trustAnchors && !(trustAnchorsPem && mode === 'controlPlane')) errors.push('identity.trustAnchors: required (a PEM file of trust anchors)');
  if (trustAnchorsPem !== undefined && !trustAnchorsPem.includes('-----BEGIN CERTIFICATE-----')) errors.push('identity.trustAnchorsPem: must hold PEM certificates');
  if (mode === 'controlPlane') {
    if (!tokenPath) errors.push('identity: set identity.certFile and identity.keyFile (certificates from files) or identity.tokenPath (join a control plane)');
    if (!destination) errors.push('destination.endpoint: required when identity comes from the control plane');
  }
  const workloadName = get<string | undefined>('workload.name', undefined);
  const workloadNamespace = get<string | undefined>('workload.namespace', undefined);
  const workloadGroup = get<string | undefined>('workload.group', undefined);
  const workloadAddress = get<string | undefined>('workload.address', undefined);
  if (workloadName && workloadGroup) errors.push('workload: set either name (a registered workload) or group and address (auto-registration), not both');
  if (workloadGroup && (!workloadAddress || isIP(workloadAddress) === 0)) errors.push(`workload.address: required with workload.group, the IPv4 or IPv6 address this VM registers with${workloadAddress ? ` (got "${workloadAddress}")` : ''}`);
  if (mode === 'controlPlane' && (!(workloadName || workloadGroup) || !workloadNamespace)) errors.push('workload: namespace and name (or group and address, to auto-register) are required to join a control plane');
  const upstreams = get<UpstreamConfig[]>('upstreams', []);
  if (!destination) {
    for (const u of upstreams) if (!u.endpoints) errors.push(`upstreams: "${u.authority}" needs destination.endpoint or static endpoints`);
  }

  const dnsPort = get<number | undefined>('dns.port', undefined);
  if (dnsPort !== undefined && !destination) errors.push('dns.port: the DNS proxy answers Service names from the control plane; set destination.endpoint');

  const identityDir = get('identity.dir', defaultStateDir(workloadNamespace, workloadName ?? (workloadGroup ? `${workloadGroup}@${workloadAddress}` : undefined)));
  const spiffeEnabled = get('spiffe.enabled', false);
  if (!spiffeEnabled && values.has('spiffe.allowedUids')) errors.push('spiffe.allowedUids: set spiffe.enabled: true to serve the SPIFFE Workload API');

  if (errors.length > 0) {
    throw new OutpostError('CONFIG_INVALID', `invalid proxy configuration:\n  ${errors.join('\n  ')}`, { field: errors.length === 1 ? errors[0].split(':')[0] : undefined });
  }
  const at = (host: string | undefined, port: number): HostPort | undefined => (host ? { host, port } : undefined);
  return {
    admin: { host: get('admin.address', '0.0.0.0'), port: get('admin.port', 4191), shutdownEnabled: get('admin.shutdownEnabled', false) },
    inbound: { host: get('inbound.address', '0.0.0.0'), port: get('inbound.port', 4143), ports: get('inbound.ports', []) },
    outbound: { host: get('outbound.address', '127.0.0.1'), port: get('outbound.port', 4140), http1Transport: get('outbound.http1Transport', 'http1') },
    tap: { host: get('tap.address', '0.0.0.0'), port: get('tap.port', 4190), identities: get('tap.identities', []) },
    identity: {
      trustAnchors,
      trustAnchorsPem,
      tokenPath,
      endpoint: get('identity.endpoint', at(dhost, 8080)),
      dir: identityDir,
      certFile,
      keyFile,
      mode,
      reloadIntervalMs: get('identity.reloadInterval', 1000),
    },
    destination: { endpoint: destination },
    policy: { endpoint: get('policy.endpoint', at(dhost, 8090)), default: get('policy.default', 'all-authenticated'), ports: get('policy.ports', []) },
    health: { endpoint: get('health.endpoint', workloadKind === 'Pod' ? undefined : at(dhost, 8087)) },
    workload: { name: workloadName, namespace: workloadNamespace, group: workloadGroup, address: workloadAddress, kind: workloadKind },
    upstreams,
    ...(dnsPort !== undefined
      ? { dns: { host: get('dns.address', '127.0.0.1'), port: dnsPort, clusterDomain: get('dns.clusterDomain', 'cluster.local'), resolvConf: get('dns.resolvConf', '/etc/resolv.conf') } }
      : {}),
    spiffe: {
      enabled: spiffeEnabled,
      // /run/outpost/ for a proxy running as root (the packaged service), else next to its credentials.
      socketPath: get('spiffe.socketPath', process.getuid?.() === 0 ? '/run/outpost/spiffe.sock' : join(identityDir, 'spiffe.sock')),
      allowedUids: get('spiffe.allowedUids', []),
    },
    // Defaults like linkerd2-proxy's outbound connect timeout (1 s) and detect timeout (10 s).
    timeouts: {
      connectMs: get('timeouts.connect', 1000),
      requestMs: get('timeouts.request', 10_000),
      idleMs: get('timeouts.idle', 60_000),
      detectMs: get('timeouts.detect', 10_000),
      shutdownGraceMs: get('timeouts.shutdownGrace', 30_000),
      // Node's own TLS handshake timeout is 120 s; kube-apiserver's ReadHeaderTimeout is 32 s for both.
      tlsHandshakeMs: get('timeouts.tlsHandshake', 10_000),
      headerMs: get('timeouts.header', 10_000),
      // Replaced by a successor (SIGHUP, handover.ts): how long existing connections may keep flowing.
      drainMs: get('timeouts.drain', 600_000),
    },
    // 128 like the API server's cap: room for a peer proxy opening its pool under a burst.
    listeners: { maxPendingPerClient: get('listeners.maxPendingPerClient', 128) },
    log: { level: get('log.level', 'info'), format: get('log.format', 'text') },
  };
}

/**
 * The identity state dir when identity.dir is not set: one per workload, never the working directory
 * (a proxy started where another workload's key lies must not take its identity).
 * /var/lib/outpost/proxy/<ns>/<name> as root, else ~/.outpost/proxy/<ns>/<name>.
 */
export function defaultStateDir(namespace: string | undefined, name: string | undefined, uid = process.getuid?.(), home = homedir()): string {
  const base = uid === 0 ? '/var/lib/outpost/proxy' : join(home, '.outpost', 'proxy');
  return namespace && name ? join(base, namespace, name.replace(/[^A-Za-z0-9._@-]/g, '_')) : base;
}

function lookup(doc: Record<string, unknown>, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

type Parsed = unknown | { error: string };

function parseValue(kind: Kind, raw: unknown, path: string): Parsed {
  const s = String(raw);
  const bad = (want: string) => ({ error: `${path}: ${want} (got ${JSON.stringify(raw)})` });
  switch (kind) {
    case 'port':
      return /^\d+$/.test(s) && Number(s) <= 65535 ? Number(s) : bad('must be a port number 0-65535');
    case 'portList': {
      const items = Array.isArray(raw) ? raw.map(String) : s.split(',').map((x) => x.trim()).filter(Boolean);
      const ports = items.map((x) => (/^\d+$/.test(x) ? Number(x) : NaN));
      return ports.every((n) => n >= 1 && n <= 65535) ? ports : bad('must be a list of port numbers 1-65535');
    }
    case 'count':
      return /^\d+$/.test(s) && Number(s) >= 1 ? Number(s) : bad('must be a whole number, at least 1');
    case 'bool':
      if (raw === true || s === 'true') return true;
      if (raw === false || s === 'false') return false;
      return bad('must be true or false');
    case 'host':
      return /^[A-Za-z0-9.:_-]+$/.test(s) ? s : bad('must be a host name or IP address');
    case 'hostport':
      return parseHostPort(s) ?? bad('must be host:port');
    case 'path':
    case 'string':
      return typeof raw === 'string' || typeof raw === 'number' ? s : bad('must be a string');
    case 'duration': {
      const ms = typeof raw === 'number' ? raw * 1000 : parseDuration(s);
      return ms === undefined ? bad('must be a duration like 500ms, 10s or 1m') : ms;
    }
    case 'uidList': {
      const items = Array.isArray(raw) ? raw.map(String) : s.split(',').map((x) => x.trim()).filter(Boolean);
      return items.every((x) => /^\d+$/.test(x) && Number(x) <= 4_294_967_294) ? items.map(Number) : bad('must be a list of numeric uids');
    }
    case 'workloadKind':
      return s === 'ExternalWorkload' || s === 'Pod' ? s : bad('must be ExternalWorkload or Pod');
    case 'transport':
      return s === 'http1' || s === 'h2' ? s : bad('must be http1 (pooled HTTP/1.1 between proxies) or h2 (multiplexed HTTP/2)');
    case 'level':
      return isLogLevel(s) ? s : bad('must be one of debug, info, warn, error');
    case 'format':
      return s === 'text' || s === 'json' ? s : bad('must be text or json');
    case 'defaultPolicy':
      return s === 'all-authenticated' || s === 'deny' ? s : bad('must be all-authenticated or deny');
    case 'list':
      if (Array.isArray(raw)) return raw.map(String);
      return s.split(',').map((x) => x.trim()).filter(Boolean);
    case 'upstreams':
      return parseUpstreams(raw, path);
    case 'portPolicies':
      return parsePortPolicies(raw, path);
  }
}

export function parseHostPort(s: string): HostPort | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s.replace(/^[a-z]+:\/\//, ''));
  if (!m || Number(m[3]) > 65535) return undefined;
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

function parseUpstreams(raw: unknown, path: string): Parsed {
  if (!Array.isArray(raw)) return { error: `${path}: must be a list` };
  const out: UpstreamConfig[] = [];
  const problems: string[] = [];
  raw.forEach((u: Record<string, unknown>, i) => {
    const p = `${path}[${i}]`;
    if (!u || typeof u !== 'object') return problems.push(`${p}: must be a mapping`);
    const listen = parseListen(u.listen);
    if (!listen) problems.push(`${p}.listen: must be host:port or a port (got ${JSON.stringify(u.listen)})`);
    const protocol = u.protocol === undefined ? 'detect' : String(u.protocol);
    if (protocol !== 'detect' && protocol !== 'opaque') problems.push(`${p}.protocol: must be detect or opaque`);
    let authority: string | undefined;
    let endpoints: StaticEndpointConfig[] | undefined;
    if (typeof u.service === 'string') {
      const port = Number(u.port);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) problems.push(`${p}.port: must be the service port (got ${JSON.stringify(u.port)})`);
      authority = u.service.includes(':') ? u.service : `${u.service}:${port}`;
    } else if (typeof u.name === 'string' && Array.isArray(u.endpoints)) {
      authority = u.name;
      endpoints = [];
      u.endpoints.forEach((e: Record<string, unknown>, j: number) => {
        const ep = `${p}.endpoints[${j}]`;
        const port = Number(e?.port);
        const inboundPort = e?.inboundPort === undefined ? port : Number(e.inboundPort);
        if (typeof e?.address !== 'string') problems.push(`${ep}.address: required`);
        if (!Number.isInteger(port) || port <= 0 || port > 65535) problems.push(`${ep}.port: must be a port number`);
        if (!Number.isInteger(inboundPort) || inboundPort <= 0 || inboundPort > 65535) problems.push(`${ep}.inboundPort: must be a port number`);
        if (e?.identity !== undefined && !/^spiffe:\/\/\S+$/.test(String(e.identity))) problems.push(`${ep}.identity: must be a spiffe:// URI`);
        endpoints!.push({
          address: String(e?.address),
          port,
          inboundPort,
          identity: e?.identity === undefined ? undefined : String(e.identity),
          serverName: e?.serverName === undefined ? undefined : String(e.serverName),
          weight: e?.weight === undefined ? 1 : Number(e.weight),
        });
      });
    } else problems.push(`${p}: needs either service+port, or name+endpoints`);
    if (authority && listen) out.push({ authority, listen, endpoints, protocol: protocol as 'detect' | 'opaque' });
  });
  return problems.length ? { error: problems.join('\n  ') } : out;
}

function parseListen(v: unknown): HostPort | undefined {
  if (typeof v === 'number' || /^\d+$/.test(String(v))) return Number(v) <= 65535 ? { host: '127.0.0.1', port: Number(v) } : undefined;
  return typeof v === 'string' ? parseHostPort(v) : undefined;
}

function parsePortPolicies(raw: unknown, path: string): Parsed {
  if (!Array.isArray(raw)) return { error: `${path}: must be a list` };
  const problems: string[] = [];
  const out: PortPolicyConfig[] = [];
  raw.forEach((r: Record<string, unknown>, i) => {
    const p = `${path}[${i}]`;
    const port = Number(r?.port);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) problems.push(`${p}.port: must be a port number`);
    const protocol = String(r?.protocol ?? 'detect');
    if (!['detect', 'opaque', 'http1', 'http2'].includes(protocol)) problems.push(`${p}.protocol: must be detect, opaque, http1 or http2`);
    const ids = r?.identities === undefined ? ['*'] : r.identities;
    if (!Array.isArray(ids)) problems.push(`${p}.identities: must be a list`);
    out.push({ port, protocol: protocol as PortPolicyConfig['protocol'], identities: Array.isArray(ids) ? ids.map(String) : [] });
  });
  return problems.length ? { error: problems.join('\n  ') } : out;
}
