// Probe specifications: parses a workload's effective probes (the guide's plain `path`/`port` HTTP GET,
// plus `httpGet`, `tcpSocket`, `grpc` and `exec` as in docs/probes.md) into validated ProbeSpecs.
// Defaults and meanings follow Kubernetes probes. Pure; every bad value is reported with its field.
import type { WorkloadPort, WorkloadProbe } from '../../core/workloads/effective.js';

export type ProbeAction =
  | { kind: 'http'; port: number; path: string; scheme: 'http' | 'https'; headers: Record<string, string> }
  | { kind: 'tcp'; port: number }
  | { kind: 'grpc'; port: number; service: string }
  | { kind: 'exec'; command: string[] };

export interface ProbeSpec {
  /** Stable name used in reports, e.g. "http-get:8081/health". */
  name: string;
  action: ProbeAction;
  periodMs: number;
  timeoutMs: number;
  initialDelayMs: number;
  failureThreshold: number;
  successThreshold: number;
}

export interface ProbeSpecError {
  field: string;
  reason: string;
}

/** Kubernetes' defaults: periodSeconds 10, timeoutSeconds 1, initialDelaySeconds 0, thresholds 3 and 1. */
export const PROBE_DEFAULTS = { periodMs: 10_000, timeoutMs: 1_000, initialDelayMs: 0, failureThreshold: 3, successThreshold: 1 };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** "10s", "500ms", "1m30s", or a number of seconds. Returns undefined for a malformed value. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1_000) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1_000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text) return undefined;
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]], 0));
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseProbes(probes: WorkloadProbe[], ports: WorkloadPort[] = []): { specs: ProbeSpec[]; errors: ProbeSpecError[] } {
  const specs: ProbeSpec[] = [];
  const errors: ProbeSpecError[] = [];
  probes.forEach((probe, i) => {
    const spec = parseProbe(probe, `probes[${i}]`, ports, errors);
    if (spec) specs.push(spec);
  });
  // Two identical probes would report under one name; keep names unique.
  const seen = new Map<string, number>();
  for (const s of specs) {
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    if (n > 1) s.name = `${s.name}#${n}`;
  }
  return { specs, errors };
}

function parseProbe(probe: WorkloadProbe, at: string, ports: WorkloadPort[], errors: ProbeSpecError[]): ProbeSpec | undefined {
  const before = errors.length;
  const fail = (field: string, reason: string) => errors.push({ field: field ? `${at}.${field}` : at, reason });
  const actions: ProbeAction[] = [];
  const port = (value: unknown, field: string): number => {
    if (typeof value === 'string' && !/^\d+$/.test(value)) {
      const named = ports.find((p) => p.name === value);
      if (named) return named.port;
      fail(field, `no workload port is named "${value}"`);
      return 0;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 65535) fail(field, `must be a port number 1-65535 or a port name, got ${JSON.stringify(value)}`);
    return n;
  };

  const httpGet = isObj(probe.httpGet) ? probe.httpGet : probe.path !== undefined || probe.port !== undefined ? (probe as Obj) : undefined;
  if (httpGet) {
    const field = httpGet === probe ? '' : 'httpGet.';
    const path = httpGet.path === undefined ? '/' : String(httpGet.path);
    if (!path.startsWith('/')) fail(`${field}path`, 'must start with "/"');
    const scheme = String(httpGet.scheme ?? 'http').toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') fail(`${field}scheme`, 'must be HTTP or HTTPS');
    const headers: Record<string, string> = {};
    const rawHeaders = httpGet.httpHeaders ?? [];
    if (Array.isArray(rawHeaders)) for (const h of rawHeaders) if (isObj(h) && typeof h.name === 'string') headers[h.name] = String(h.value ?? '');
    actions.push({ kind: 'http', port: port(httpGet.port, `${field}port`), path, scheme: scheme as 'http' | 'https', headers });
  }
  if (probe.tcpSocket !== undefined) {
    const t = isObj(probe.tcpSocket) ? probe.tcpSocket : {};
    actions.push({ kind: 'tcp', port: port(t.port, 'tcpSocket.port') });
  }
  if (probe.grpc !== undefined) {
    const g = isObj(probe.grpc) ? probe.grpc : {};
    actions.push({ kind: 'grpc', port: port(g.port, 'grpc.port'), service: typeof g.service === 'string' ? g.service : '' });
  }
  if (probe.exec !== undefined) {
    const command = isObj(probe.exec) ? probe.exec.command : undefined;
    if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string')) fail('exec.command', 'must be a non-empty array of strings');
    else actions.push({ kind: 'exec', command: command as string[] });
  }
  if (actions.length === 0 && errors.length === before) fail('', 'needs one of path/port (HTTP GET), httpGet, tcpSocket, grpc or exec');
  if (actions.length > 1) fail('', 'must define exactly one of HTTP GET, tcpSocket, grpc or exec');

  const duration = (names: [string, string], fallback: number, min: number): number => {
    const [name, secondsName] = names;
    const raw = probe[name] ?? (probe[secondsName] !== undefined ? Number(probe[secondsName]) : undefined);
    if (raw === undefined) return fallback;
    const ms = parseDuration(raw);
    if (ms === undefined) fail(name, `must be a duration such as "10s" or "500ms", got ${JSON.stringify(raw)}`);
    else if (ms < min) fail(name, `must be at least ${min} ms`);
    return ms ?? fallback;
  };
  const threshold = (name: 'failureThreshold' | 'successThreshold', fallback: number): number => {
    const raw = probe[name];
    if (raw === undefined) return fallback;
    if (!Number.isInteger(raw) || (raw as number) < 1) fail(name, `must be a whole number of at least 1, got ${JSON.stringify(raw)}`);
    return Number.isInteger(raw) && (raw as number) >= 1 ? (raw as number) : fallback;
  };
  const periodMs = duration(['period', 'periodSeconds'], PROBE_DEFAULTS.periodMs, 100);
  const timeoutMs = duration(['timeout', 'timeoutSeconds'], PROBE_DEFAULTS.timeoutMs, 1);
  const initialDelayMs = duration(['initialDelay', 'initialDelaySeconds'], PROBE_DEFAULTS.initialDelayMs, 0);
  const failureThreshold = threshold('failureThreshold', PROBE_DEFAULTS.failureThreshold);
  const successThreshold = threshold('successThreshold', PROBE_DEFAULTS.successThreshold);

  if (errors.length > before || actions.length !== 1) return undefined;
  const action = actions[0];
  return { name: probeName(action), action, periodMs, timeoutMs, initialDelayMs, failureThreshold, successThreshold };
}

export function probeName(action: ProbeAction): string {
  switch (action.kind) {
    case 'http':
      return `${action.scheme === 'https' ? 'https' : 'http'}-get:${action.port}${action.path}`;
    case 'tcp':
      return `tcp:${action.port}`;
    case 'grpc':
      return action.service ? `grpc:${action.port}/${action.service}` : `grpc:${action.port}`;
    case 'exec':
      return `exec:${action.command.join(' ')}`;
  }
}
