// The control plane's flags, each declared once (name, type, default, environment variable, help,
// validation): `outpost up` parses them once at the process entry, `startControlPlane` hands each
// component the typed slice it needs (components.ts), and `--help` prints this table by section.
import { isIPv4, isIPv6 } from 'node:net';
import { flagValueProblem, formatDuration, formatFlagHelp, parseFlags, resolveFlags, type FlagSpec, type FlagSpecs, type ParsedFlags } from '../core/flags.js';
import { OutpostError } from '../core/errors.js';
import { defaultDataDir } from '../core/files.js';
import { DEFAULT_TRUST_DOMAIN } from '../core/workloads/effective.js';
import { POD_NAMINGS } from '../core/workloads/pod.js';
import { DEFAULT_PROXY_IMAGE, DEFAULT_TOKEN_EXPIRATION_SECONDS } from '../inject/mesh.js';
import { DEFAULT_SERVICE_CIDR, parseServiceCidr } from '../apiserver/service-ips.js';
import { DEFAULT_QUEUE_CAPACITY } from '../core/grpc/bounded-stream.js';
import { parseScrapeTarget } from '../viz/discovery.js';
import { DEFAULT_POLICIES } from '../policy/compute.js';

/** The components `outpost up` can run (--components), in start order. */
export const COMPONENT_NAMES = ['identity', 'controllers', 'destination', 'policy', 'viz', 'injector'] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];
export const COMPONENT_CREDENTIALS = ['service-accounts', 'kubeconfig'] as const;
/** The admin endpoint's port (`--admin-port`) when not given, as Linkerd's controllers use; with a free API port a free port. */
export const DEFAULT_ADMIN_PORT = 9990;

/** host:port, a DNS name or an IP (IPv6 in brackets). */
function hostPortProblem(value: string): string | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(value) ?? /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!m || (value.startsWith('[') && !isIPv6(m[1])) || Number(m[2]) > 65535) return `expected host:port, got "${value}"`;
  return undefined;
}

function problemOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    // The parsers name the flag themselves; the table adds the name once.
    return (e as Error).message.replace(/^--[\w-]+: /, '');
  }
}

const port = (def: number, what: string) => ({ type: 'int', default: def, min: 0, max: 65535, help: `port of ${what} (0 picks a free port)` }) as const;

const BASE = {
  'data-dir': { type: 'string', default: defaultDataDir({}), env: 'OUTPOST_DATA_DIR', help: 'where state, keys and the kubeconfig live' },
  listen: { type: 'string', default: '127.0.0.1', help: 'address every listener binds to', check: (v: string) => (isIPv4(v) || isIPv6(v) ? undefined : `expected an IP address, got "${v}"`) },
  'api-port': port(6443, 'the Kubernetes-compatible API'),
  kubeconfig: { type: 'string', help: 'run against this Kubernetes API instead of the embedded one (apply `outpost install` first; admin credentials, used to mint each component its own ServiceAccount token)' },
  'in-cluster': { type: 'bool', help: "in a pod: use the pod's ServiceAccount and the cluster's API (the Deployments of `outpost install`)" },
  components: {
    type: 'string',
    help: `run only these components, comma-separated (${COMPONENT_NAMES.join(', ')}); default all`,
    check: (v: string) => {
      const unknown = v.split(',').map((c) => c.trim()).filter((c) => c && !(COMPONENT_NAMES as readonly string[]).includes(c));
      return unknown.length ? `unknown component "${unknown[0]}" (known: ${COMPONENT_NAMES.join(', ')})` : undefined;
    },
  },
  'component-credentials': { type: 'string', default: 'service-accounts', oneOf: COMPONENT_CREDENTIALS, help: "with --kubeconfig: service-accounts (each component as outpost/outpost-<component>, tokens from the TokenRequest API) or kubeconfig (every component with the kubeconfig's credentials)" },
  'identity-address': { type: 'string', check: hostPortProblem, help: 'host:port of the identity service, for components run without identity in this process (--components): each gets its mTLS certificate from it with its own ServiceAccount token' },
  'service-cidr': { type: 'string', default: DEFAULT_SERVICE_CIDR, check: (v: string) => problemOf(() => parseServiceCidr(v)), help: "the range the embedded API gives Services' cluster IPs from (IPv4 CIDR; what a VM's DNS proxy answers)" },
  'admin-port': { type: 'int', min: 0, max: 65535, help: `port of the admin endpoint: /metrics, /live, /ready (default ${DEFAULT_ADMIN_PORT}; with --api-port=0 a free port)` },
  'log-level': { type: 'string', default: 'info', oneOf: ['debug', 'info', 'warn', 'error'], help: 'least severe log lines written' },
  'log-format': { type: 'string', default: 'text', oneOf: ['text', 'json'], help: 'log line format' },
} as const satisfies FlagSpecs;

const IDENTITY = {
  'identity-port': port(8080, 'the identity service (gRPC over TLS)'),
  'identity-trust-anchors-file': { type: 'string', help: 'import: PEM bundle of trust anchors (instead of generating a CA in DATA_DIR/pki)' },
  'identity-issuer-cert': { type: 'string', help: 'import: PEM issuer (intermediate) certificate, chaining to the trust anchors' },
  'identity-issuer-key': { type: 'string', help: 'import: PEM ECDSA P-256 private key of the issuer' },
  'identity-issuance-lifetime': { type: 'duration', default: 24 * 3_600_000, min: 1_000, help: 'lifetime of workload certificates' },
  'identity-trust-domain': { type: 'string', default: DEFAULT_TRUST_DOMAIN, check: (v: string) => (/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/.test(v) ? undefined : `"${v}" is not a trust domain (lowercase letters, digits, dots, dashes and underscores)`), help: 'trust domain of default SPIFFE identities' },
  'identity-rate-limit': { type: 'int', default: 100, min: 0, help: 'certify requests per second allowed per caller IP (bursts of twice that; 0 = no limit)' },
  'identity-naming': { type: 'string', default: 'spiffe', oneOf: POD_NAMINGS, help: "DNS name (serverName) of pods' certificates, used by identity, destination, policy and viz: spiffe (<sa>.<ns>.serviceaccount.identity.outpost.<trust-domain>) or linkerd (<sa>.<ns>.serviceaccount.identity.linkerd.<trust-domain>, as Linkerd names them, under an imported Linkerd issuer; the SPIFFE URI SAN stays first either way)" },
} as const satisfies FlagSpecs;

const CONTROLLERS = {
  'health-port': port(8087, 'the workload health API (gRPC over mTLS) that proxies report probe results and heartbeats to'),
  'workload-disconnect-grace': { type: 'duration', default: 30_000, help: 'how long an external workload stays ready after its proxy stops reporting (per group: annotation outpost.io/disconnect-grace)' },
  'auto-registered-remove-after': { type: 'duration', default: 3_600_000, help: 'how long an auto-registered external workload may have lost its heartbeat before it is deleted (per group: annotation outpost.io/remove-after)' },
} as const satisfies FlagSpecs;

const DESTINATION = {
  'destination-port': port(8086, 'the destination (discovery) gRPC service, mTLS'),
  'destination-queue': { type: 'int', default: DEFAULT_QUEUE_CAPACITY, min: 1, max: 100_000, help: 'updates queued per destination or policy stream before a client that does not read is disconnected' },
} as const satisfies FlagSpecs;

const POLICY = {
  'policy-port': port(8090, 'the inbound policy gRPC service, mTLS'),
  'default-inbound-policy': { type: 'string', default: 'all-unauthenticated', oneOf: DEFAULT_POLICIES, help: 'policy of ports no Server selects' },
} as const satisfies FlagSpecs;

const VIZ = {
  'viz-port': port(8084, 'the viz API, tap relay and dashboard (HTTPS)'),
  'prometheus-url': { type: 'string', check: (v: string) => (/^https?:\/\/[^\s]+$/.test(v) ? undefined : `expected an http:// or https:// URL, got "${v}"`), help: 'answer viz queries with PromQL against this Prometheus instead of the built-in scraper' },
  'scrape-interval': { type: 'duration', default: 10_000, min: 100, help: 'how often the built-in pipeline scrapes every proxy' },
  'scrape-target': { type: 'list', check: (v: string) => problemOf(() => parseScrapeTarget(v)), help: 'extra proxy to scrape: NAMESPACE/NAME=HOST:PORT[,tap=HOST:PORT] (repeatable)' },
} as const satisfies FlagSpecs;

const INJECTOR = {
  injector: { type: 'bool', help: 'serve the proxy injector webhook (pods in a real cluster; see docs/kubernetes.md)' },
  'injector-port': port(8443, 'the proxy injector webhook (HTTPS)'),
  'injector-failure-policy': { type: 'string', default: 'Ignore', oneOf: ['Ignore', 'Fail'], help: 'the webhook failurePolicy: Ignore (a pod is created without a proxy when the injector cannot answer) or Fail' },
  'injector-proxy-image': { type: 'string', default: DEFAULT_PROXY_IMAGE, help: 'image repository of the injected proxy (tagged with the version)' },
  'injector-identity-address': { type: 'string', default: 'outpost-identity.outpost.svc.cluster.local:8080', check: hostPortProblem, help: 'identity service address injected proxies dial' },
  'injector-destination-address': { type: 'string', default: 'outpost-destination.outpost.svc.cluster.local:8086', check: hostPortProblem, help: 'destination service address injected proxies dial' },
  'injector-policy-address': { type: 'string', default: 'outpost-policy.outpost.svc.cluster.local:8090', check: hostPortProblem, help: 'policy service address injected proxies dial' },
  'injector-token-expiration': { type: 'duration', default: DEFAULT_TOKEN_EXPIRATION_SECONDS * 1000, min: 600_000, help: "lifetime of pods' projected identity tokens (the API issues none shorter than 10m)" },
} as const satisfies FlagSpecs;

/** The table, by section as `--help` shows it: the control plane's own flags, then each component's. */
export const FLAG_SECTIONS = { 'control plane': BASE, identity: IDENTITY, controllers: CONTROLLERS, destination: DESTINATION, policy: POLICY, viz: VIZ, injector: INJECTOR } as const;

export const CONTROL_PLANE_FLAGS = { ...BASE, ...IDENTITY, ...CONTROLLERS, ...DESTINATION, ...POLICY, ...VIZ, ...INJECTOR } as const satisfies FlagSpecs;

export type ControlPlaneFlags = ParsedFlags<typeof CONTROL_PLANE_FLAGS>;
export type ControlPlaneFlagName = keyof typeof CONTROL_PLANE_FLAGS;

/** The flags of `outpost up` from its command line and environment, every bad value reported in one line. */
export function parseControlPlaneFlags(argv: string[], env: Record<string, string | undefined> = process.env): { flags: ControlPlaneFlags; help: boolean; positionals: string[] } {
  const { flags, help, positionals } = parseFlags(argv, CONTROL_PLANE_FLAGS, env);
  if (!help) checkCombinations(flags, env);
  return { flags, help, positionals };
}

/** The flags from programmatic settings (tests, `outpost demo`): defaults, then `values`, checked the same way. */
export function controlPlaneFlags(values: Partial<ControlPlaneFlags> = {}): ControlPlaneFlags {
  const flags = resolveFlags(CONTROL_PLANE_FLAGS, values);
  checkCombinations(flags, process.env);
  return flags;
}

/** Rules between flags (and the environment they need), which a single flag's check cannot see. */
function checkCombinations(flags: ControlPlaneFlags, env: Record<string, string | undefined>): void {
  if (flags.kubeconfig && flags['in-cluster']) throw new OutpostError('INVALID_ARGUMENT', '--in-cluster: may not be given together with --kubeconfig', { field: 'in-cluster' });
  // In a pod the kubelet sets the API's address; client-node's in-cluster config reads it.
  if (flags['in-cluster'] && !env.KUBERNETES_SERVICE_HOST) throw new OutpostError('CONFIG_INVALID', '--in-cluster: KUBERNETES_SERVICE_HOST is not set (not in a pod?)', { field: 'in-cluster' });
}

/** The components --components names (all when absent or empty). */
export function selectedComponents(flags: ControlPlaneFlags): ComponentName[] {
  const named = (flags.components ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  return named.length ? COMPONENT_NAMES.filter((c) => named.includes(c)) : [...COMPONENT_NAMES];
}

/** `outpost up --help`: the control plane's flags and those of the components (only those named by --components when given). */
export function controlPlaneHelp(components: readonly string[] = COMPONENT_NAMES): string {
  return Object.entries(FLAG_SECTIONS)
    .filter(([section]) => section === 'control plane' || components.includes(section))
    .map(([section, specs]) => `${section === 'control plane' ? 'Control plane' : `Component ${section}`}:\n${formatFlagHelp(specs)}`)
    .join('\n\n');
}

/** The components' port flags (identity-port, …, admin-port) with their defaults: what `outpost demo` frees or checks. */
export function componentPortFlags(): [ControlPlaneFlagName, number][] {
  return Object.entries(CONTROL_PLANE_FLAGS)
    .filter(([name, spec]) => name.endsWith('-port') && name !== 'api-port' && spec.type === 'int')
    .map(([name, spec]) => [name as ControlPlaneFlagName, 'default' in spec && typeof spec.default === 'number' ? spec.default : DEFAULT_ADMIN_PORT]);
}

/** docs/reference/control-plane-flags.md, from the same table (a test keeps the page equal to this). */
export function controlPlaneFlagsMarkdown(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const def = (spec: FlagSpec) => {
    if (!('default' in spec) || spec.default === undefined || spec.default === '') return '—';
    if (spec.type === 'duration') return formatDuration(spec.default);
    return `\`${String(spec.default)}\``;
  };
  const sections = Object.entries(FLAG_SECTIONS).map(([section, specs]) => {
    const rows = Object.entries(specs as FlagSpecs).map(([name, spec]) => {
      const allowed = spec.type === 'string' && spec.oneOf ? ` One of: ${spec.oneOf.map((v) => `\`${v}\``).join(', ')}.` : '';
      const env = spec.env ? ` Environment: \`${spec.env}\`.` : '';
      return `| \`--${name}\` | ${spec.type} | ${name === 'data-dir' ? '`~/.outpost`' : def(spec)} | ${cell(spec.help)}.${allowed}${env} |`;
    });
    return [`## ${section === 'control plane' ? 'The control plane' : `Component \`${section}\``}`, '', '| flag | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
  });
  return [
    '# Flags of `outpost up`',
    '',
    '<!-- Generated from src/controlplane/flags.ts (test/controlplane/flags.test.ts checks it; OUTPOST_UPDATE_DOCS=1 rewrites it). -->',
    '',
    'Every flag is declared once, in `src/controlplane/flags.ts`, and parsed once when `outpost up` starts;',
    'each component gets the values it needs from that. `outpost up --help` prints the same table, and',
    '`outpost up --components=NAME --help` only the flags of the control plane and of that component.',
    'A bad value stops `outpost up` before anything starts: exit code 2 and one line naming every bad flag',
    'and why, e.g. `outpost up: --default-inbound-policy: expected all-unauthenticated, …, deny, got "nope"`.',
    'A flag given on the command line wins over its environment variable.',
    'Durations are written like `30s`, `5m`, `24h` or `1h30m` (a bare number is seconds).',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
}

/** Why one value is not allowed for a flag, or undefined (for a caller checking a single value, e.g. `outpost install`). */
export function controlPlaneFlagProblem(name: ControlPlaneFlagName, value: unknown): string | undefined {
  return flagValueProblem(CONTROL_PLANE_FLAGS[name], value);
}
