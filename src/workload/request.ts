// What `outpost workload onboard` is asked to do, validated up front (pure): name, namespace,
// address, ports, group, ServiceAccount, token lifetime; or, for a group bundle, group, namespace,
// ServiceAccount and token lifetime. Every problem names its flag.
import { isIP } from 'node:net';
import { OutpostError } from '../core/errors.js';

export interface OnboardPort {
  name: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface OnboardRequest {
  name: string;
  namespace: string;
  ip: string;
  ports: OnboardPort[];
  group?: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** Lifetime of the bootstrap token, milliseconds. */
  tokenDurationMs: number;
  /** Proxy inbound port announced to peers (annotation config.outpost.io/proxy-inbound-port). */
  inboundPort: number;
}

export interface RawOnboardInput {
  name?: string;
  namespace?: string;
  ip?: string;
  ports?: string[];
  group?: string;
  serviceAccount?: string;
  labels?: string[];
  tokenDurationMs?: number;
  inboundPort?: number;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** Kubernetes caps bound token lifetimes at 48 h in practice; bootstrap tokens are meant to be short. */
export const MIN_TOKEN_MS = 10 * 60_000;
export const MAX_TOKEN_MS = 48 * 3_600_000;

const fail = (flag: string, reason: string): never => {
  throw new OutpostError('INVALID_ARGUMENT', `--${flag}: ${reason}`, { field: flag });
};

/** Parses `name:port[/proto]` (the proto defaults to TCP). */
export function parsePortSpec(spec: string): OnboardPort {
  const m = /^([^:]+):(\d{1,5})(?:\/([A-Za-z]+))?$/.exec(spec);
  if (!m) return fail('port', `expected name:port[/TCP|UDP|SCTP], got "${spec}"`);
  const [, name, portText, proto] = m;
  if (name.length > 15 || !PORT_NAME.test(name)) return fail('port', `port name "${name}" must be 1-15 lower-case letters, digits or '-'`);
  const port = Number(portText);
  if (port < 1 || port > 65535) return fail('port', `port ${port} is out of range 1-65535`);
  const protocol = (proto ?? 'TCP').toUpperCase();
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') return fail('port', `protocol "${proto}" must be TCP, UDP or SCTP`);
  return { name, port, protocol };
}

function parseLabel(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  if (eq <= 0) return fail('label', `expected key=value, got "${spec}"`);
  const key = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  if (!LABEL_KEY.test(key)) return fail('label', `"${key}" is not a valid label key`);
  if (value.length > 63 || !LABEL_VALUE.test(value)) return fail('label', `"${value}" is not a valid label value`);
  return [key, value];
}

export function validateOnboardRequest(raw: RawOnboardInput): OnboardRequest {
  const name = raw.name ?? fail('name', 'the workload name is required (outpost workload onboard NAME -n NS --ip IP), or --group G without NAME for a bundle every VM of group G installs');
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) fail('name', `"${name}" must be a lower-case DNS name (letters, digits, '-', '.')`);
  const namespace = raw.namespace ?? fail('namespace', 'the namespace is required (-n NS)');
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) fail('namespace', `"${namespace}" must be a lower-case DNS label`);
  const ip = raw.ip ?? fail('ip', 'the address the workload is reached at is required (--ip IP)');
  if (!isIP(ip)) fail('ip', `"${ip}" is not an IP address`);
  if (ip === '0.0.0.0' || ip === '::') fail('ip', `"${ip}" is not a routable address`);
  const ports = (raw.ports ?? []).map(parsePortSpec);
  const seen = new Set<string>();
  for (const p of ports) {
    if (seen.has(p.name)) fail('port', `port name "${p.name}" is given twice`);
    seen.add(p.name);
  }
  // No ports (and no group): a client-only workload — it calls Services; no Service routes to it.
  if (raw.group !== undefined && (raw.group.length > 63 || !DNS1123_LABEL.test(raw.group))) fail('group', `"${raw.group}" must be a lower-case DNS label`);
  const serviceAccount = raw.serviceAccount ?? name;
  if (serviceAccount.length > 253 || !DNS1123_SUBDOMAIN.test(serviceAccount)) fail('service-account', `"${serviceAccount}" must be a lower-case DNS name`);
  const tokenDurationMs = raw.tokenDurationMs ?? 3_600_000;
  if (tokenDurationMs < MIN_TOKEN_MS) fail('token-duration', 'must be at least 10m (the API refuses shorter tokens)');
  if (tokenDurationMs > MAX_TOKEN_MS) fail('token-duration', 'must be at most 48h (bootstrap tokens are used once; keep them short)');
  const inboundPort = raw.inboundPort ?? 4143;
  if (!Number.isInteger(inboundPort) || inboundPort < 1 || inboundPort > 65535) fail('inbound-port', `${inboundPort} is out of range 1-65535`);
  const labels = Object.fromEntries((raw.labels ?? []).map(parseLabel));
  return { name, namespace, ip, ports, group: raw.group, serviceAccount, labels, tokenDurationMs, inboundPort };
}

/** `outpost workload onboard --group G -n NS` (no NAME): a bundle every VM of the group installs. */
export interface GroupOnboardRequest {
  namespace: string;
  group: string;
  /** The ServiceAccount bound to the group; undefined: the group's current binding, else the group's name. */
  serviceAccount?: string;
  tokenDurationMs: number;
}

export function validateGroupOnboardRequest(raw: { namespace?: string; group?: string; serviceAccount?: string; tokenDurationMs?: number }): GroupOnboardRequest {
  const group = raw.group ?? fail('group', 'the WorkloadGroup is required (outpost workload onboard --group G -n NS)');
  if (group.length > 63 || !DNS1123_LABEL.test(group)) fail('group', `"${group}" must be a lower-case DNS label`);
  const namespace = raw.namespace ?? fail('namespace', 'the namespace is required (-n NS)');
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) fail('namespace', `"${namespace}" must be a lower-case DNS label`);
  const serviceAccount = raw.serviceAccount;
  if (serviceAccount !== undefined && (serviceAccount.length > 253 || !DNS1123_SUBDOMAIN.test(serviceAccount))) fail('service-account', `"${serviceAccount}" must be a lower-case DNS name`);
  const tokenDurationMs = raw.tokenDurationMs ?? 3_600_000;
  if (tokenDurationMs < MIN_TOKEN_MS) fail('token-duration', 'must be at least 10m (the API refuses shorter tokens)');
  if (tokenDurationMs > MAX_TOKEN_MS) fail('token-duration', 'must be at most 48h (bootstrap tokens are used once; keep them short)');
  return { namespace, group, serviceAccount, tokenDurationMs };
}
