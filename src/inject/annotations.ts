// The annotations that ask for injection and tune the injected proxy (Linkerd's names, so manifests
// written for `linkerd inject` work unchanged), parsed and validated up front: every bad value is
// reported at once, naming the annotation.

export const INJECT_ANNOTATIONS = ['linkerd.io/inject', 'outpost.io/inject'] as const;

/** Settings read from a pod's (or its namespace's) annotations; a pod's own value wins. */
export const CONFIG = {
  proxyImage: 'config.linkerd.io/proxy-image',
  proxyVersion: 'config.linkerd.io/proxy-version',
  proxyUid: 'config.linkerd.io/proxy-uid',
  logLevel: 'config.linkerd.io/proxy-log-level',
  logFormat: 'config.linkerd.io/proxy-log-format',
  cpuRequest: 'config.linkerd.io/proxy-cpu-request',
  cpuLimit: 'config.linkerd.io/proxy-cpu-limit',
  memoryRequest: 'config.linkerd.io/proxy-memory-request',
  memoryLimit: 'config.linkerd.io/proxy-memory-limit',
  skipInboundPorts: 'config.linkerd.io/skip-inbound-ports',
  skipOutboundPorts: 'config.linkerd.io/skip-outbound-ports',
  skipOutboundIps: 'config.linkerd.io/skip-outbound-ips',
  opaquePorts: 'config.linkerd.io/opaque-ports',
} as const;

export type InjectDecision = { inject: true; because: string } | { inject: false; because: string };

function injectValue(annotations: Record<string, string> | undefined): string | undefined {
  const values = INJECT_ANNOTATIONS.map((a) => annotations?.[a]).filter((v): v is string => v !== undefined);
  // Deny when in doubt: if either annotation says disabled, the resource is not injected.
  if (values.includes('disabled')) return 'disabled';
  return values[0];
}

/** Whether a pod is injected: `disabled` on the pod wins, then `enabled` on the pod, then the namespace. */
export function decideInjection(pod: Record<string, string> | undefined, namespace: Record<string, string> | undefined): InjectDecision {
  const own = injectValue(pod);
  if (own === 'disabled') return { inject: false, because: 'the pod is annotated inject: disabled' };
  if (own === 'enabled') return { inject: true, because: 'the pod is annotated inject: enabled' };
  if (own !== undefined) return { inject: false, because: `inject: "${own}" is not supported (use enabled or disabled)` };
  const ns = injectValue(namespace);
  if (ns === 'enabled') return { inject: true, because: 'its namespace is annotated inject: enabled' };
  return { inject: false, because: 'neither the pod nor its namespace is annotated inject: enabled' };
}

export interface ProxySettings {
  image?: string;
  version?: string;
  uid: number;
  logLevel: string;
  logFormat: string;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  skipInboundPorts: number[];
  skipOutboundPorts: number[];
  skipOutboundCidrs: string[];
}

/** The proxy's uid by default, like Linkerd's (2102); proxy-init leaves this uid's traffic alone. */
export const DEFAULT_PROXY_UID = 2102;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];
// A Kubernetes resource quantity: 100m, 0.5, 128Mi, 1G, 1e3.
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei|[eE][+-]?\d+)?$/;
const MAX_SKIPPED_PORTS = 1024;

/** Ports like Linkerd's skip-ports annotations: "25,587,3306" or ranges "4000-4010". */
export function parsePortSpec(value: string, annotation: string, errors: string[], maxPorts = MAX_SKIPPED_PORTS): number[] {
  const out = new Set<number>();
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] ? Number(m[2]) : lo;
    if (!m || lo < 1 || hi > 65535 || hi < lo) {
      errors.push(`annotation ${annotation}: "${part}" is not a port (1-65535) or a range like 4000-4010`);
      continue;
    }
    if (out.size + (hi - lo + 1) > maxPorts) {
      errors.push(`annotation ${annotation}: more than ${maxPorts} ports; skip fewer ports`);
      break;
    }
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}

function parseCidrs(value: string, annotation: string, errors: string[]): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean).flatMap((c) => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(c);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || (m[5] !== undefined && Number(m[5]) > 32)) {
      errors.push(`annotation ${annotation}: "${c}" is not an IPv4 address or CIDR like 10.0.0.0/8`);
      return [];
    }
    return [m[5] === undefined ? `${c}/32` : c];
  });
}

/** Reads the proxy settings; the pod's annotations override the namespace's. `errors` names every bad annotation. */
export function readProxySettings(pod: Record<string, string> | undefined, namespace: Record<string, string> | undefined, errors: string[]): ProxySettings {
  const get = (a: string): string | undefined => pod?.[a] ?? namespace?.[a];
  const settings: ProxySettings = {
    image: get(CONFIG.proxyImage) || undefined,
    version: get(CONFIG.proxyVersion) || undefined,
    uid: DEFAULT_PROXY_UID,
    logLevel: 'info',
    logFormat: 'text',
    resources: { requests: {}, limits: {} },
    skipInboundPorts: [],
    skipOutboundPorts: [],
    skipOutboundCidrs: [],
  };
  const uid = get(CONFIG.proxyUid);
  if (uid !== undefined) {
    if (/^\d{1,10}$/.test(uid) && Number(uid) > 0 && Number(uid) < 2 ** 31) settings.uid = Number(uid);
    else errors.push(`annotation ${CONFIG.proxyUid}: "${uid}" is not a uid (an integer from 1; the proxy never runs as root)`);
  }
  const level = get(CONFIG.logLevel);
  if (level !== undefined) {
    // Linkerd's form "warn,linkerd=info": the first directive is the level.
    const first = level.split(',')[0].trim().toLowerCase();
    if (LOG_LEVELS.includes(first)) settings.logLevel = first;
    else errors.push(`annotation ${CONFIG.logLevel}: "${level}" is not a log level (${LOG_LEVELS.join(', ')})`);
  }
  const format = get(CONFIG.logFormat);
  if (format !== undefined) {
    if (format === 'plain' || format === 'text') settings.logFormat = 'text';
    else if (format === 'json') settings.logFormat = 'json';
    else errors.push(`annotation ${CONFIG.logFormat}: "${format}" is not a log format (plain or json)`);
  }
  const quantities: [string, 'requests' | 'limits', 'cpu' | 'memory'][] = [
    [CONFIG.cpuRequest, 'requests', 'cpu'],
    [CONFIG.cpuLimit, 'limits', 'cpu'],
    [CONFIG.memoryRequest, 'requests', 'memory'],
    [CONFIG.memoryLimit, 'limits', 'memory'],
  ];
  for (const [annotation, kind, resource] of quantities) {
    const v = get(annotation);
    if (v === undefined) continue;
    if (QUANTITY.test(v.trim())) settings.resources[kind][resource] = v.trim();
    else errors.push(`annotation ${annotation}: "${v}" is not a resource quantity (e.g. 100m, 0.5, 64Mi)`);
  }
  const skipIn = get(CONFIG.skipInboundPorts);
  if (skipIn !== undefined) settings.skipInboundPorts = parsePortSpec(skipIn, CONFIG.skipInboundPorts, errors);
  const skipOut = get(CONFIG.skipOutboundPorts);
  if (skipOut !== undefined) settings.skipOutboundPorts = parsePortSpec(skipOut, CONFIG.skipOutboundPorts, errors);
  const skipIps = get(CONFIG.skipOutboundIps);
  if (skipIps !== undefined) settings.skipOutboundCidrs = parseCidrs(skipIps, CONFIG.skipOutboundIps, errors);
  const opaque = get(CONFIG.opaquePorts);
  if (opaque !== undefined) parsePortSpec(opaque, CONFIG.opaquePorts, errors, 65535);
  return settings;
}
