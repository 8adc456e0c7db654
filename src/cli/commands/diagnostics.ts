// `outpost diagnostics endpoints svc/NAME -n NS` and `outpost diagnostics policy
// externalworkload/NAME -n NS --port P`: what a proxy would receive from the destination and
// policy services, computed by the same functions over the same API reads (informers).
import { KubeConfig } from '@kubernetes/client-node';
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { OutpostError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import type { KindName } from '../../kube/kinds.js';
import { DESTINATION_KINDS, MeshView } from '../../kube/mesh-view.js';
import { describeMatch } from '../../core/routes/http-route.js';
import { listJson } from '../../kube/list-json.js';
import { DestinationWatcher } from '../../destination/watcher.js';
import { serviceFqdn } from '../../destination/authority.js';
import type { ServiceObject } from '../../kube/objects.js';
import { toWireEndpoint } from '../../destination/wire.js';
import type { Endpoint } from '../../api/gen/destination.js';
import type { Authorization } from '../../api/gen/policy.js';
import type { DefaultPolicy } from '../../policy/compute.js';
import type { PodNaming } from '../../core/workloads/pod.js';
import { POLICY_KINDS, policyFromView } from '../../policy/inputs.js';
import { toWireInboundServer } from '../../policy/wire.js';
import { KUBE_FLAGS, MESH_SETTINGS_FLAGS, loadKubeConfig, meshSettings } from '../kube-context.js';

const FLAGS = {
  namespace: { type: 'string', short: 'n', default: 'default', help: 'namespace of the service or workload' },
  port: { type: 'int', min: 1, max: 65535, help: 'port (endpoints: a Service port, default every port; policy: required)' },
  output: { type: 'string', short: 'o', default: 'table', help: 'table or json' },
  ...KUBE_FLAGS,
  ...MESH_SETTINGS_FLAGS,
} satisfies FlagSpecs;

const USAGE = `Usage:
  outpost diagnostics endpoints svc/NAME -n NAMESPACE [--port P] [-o table|json]
  outpost diagnostics policy externalworkload/NAME -n NAMESPACE --port P [-o table|json]`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { flags, positionals, help } = parseFlags(rest, FLAGS);
  if (!sub || sub === '--help' || sub === '-h' || help) {
    console.log(`${USAGE}\n\nFlags:\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  if (flags.output !== 'table' && flags.output !== 'json') throw new OutpostError('INVALID_ARGUMENT', `--output: expected table or json, got "${flags.output}"`, { field: 'output' });
  if (positionals.length !== 1) throw new OutpostError('INVALID_ARGUMENT', `expected one object, got ${positionals.length}\n${USAGE}`);
  const { kc, path } = loadKubeConfig(flags);
  // Compute as the running control plane does: its trust domain and default policy, unless overridden.
  const mesh = meshSettings(flags, path);
  const settings = { ...flags, 'trust-domain': mesh.trustDomain, 'default-inbound-policy': mesh.defaultInboundPolicy, 'identity-naming': mesh.podNaming };
  if (sub === 'endpoints') return endpoints(kc, positionals[0], settings);
  if (sub === 'policy') return policy(kc, positionals[0], settings);
  throw new OutpostError('INVALID_ARGUMENT', `unknown subcommand "${sub}" (expected endpoints or policy)`);
}

type Flags = ReturnType<typeof parseFlags<typeof FLAGS>>['flags'] & { 'trust-domain': string; 'default-inbound-policy': DefaultPolicy; 'identity-naming': PodNaming };

function objectName(arg: string, kinds: string[], what: string): string {
  const m = /^([a-z]+)\/(.+)$/.exec(arg);
  if (!m || !kinds.includes(m[1])) throw new OutpostError('INVALID_ARGUMENT', `expected ${what}, got "${arg}"`);
  return m[2];
}

async function withView<T>(kc: KubeConfig, kinds: readonly KindName[], trustDomain: string, fn: (view: MeshView) => T): Promise<T> {
  const server = kc.getCurrentCluster()?.server;
  let probe: Awaited<ReturnType<typeof listJson>>;
  try {
    probe = await listJson(kc, '/api/v1/namespaces');
  } catch (e) {
    throw new OutpostError('API_UNREACHABLE', `cannot reach the API at ${server}: ${(e as Error).message}`);
  }
  if (probe.statusCode === 401 || probe.statusCode === 403) throw new OutpostError('API_UNREACHABLE', `the API at ${server} refused the kubeconfig's credentials (HTTP ${probe.statusCode})`);
  const view = MeshView.standalone(kc, kinds, silentLogger, systemClock, trustDomain);
  view.start();
  try {
    if (!(await view.waitSynced(10_000))) throw new OutpostError('API_UNREACHABLE', `could not list from the API at ${server}`);
    return fn(view);
  } finally {
    await view.stop();
  }
}

async function endpoints(kc: KubeConfig, arg: string, flags: Flags): Promise<number> {
  const name = objectName(arg, ['svc', 'service', 'services'], 'svc/NAME');
  const ns = flags.namespace;
  const result = await withView(kc, DESTINATION_KINDS, flags['trust-domain'], (view) => {
    const svc = view.get<ServiceObject>('services', ns, name);
    if (!svc) throw new OutpostError('NOT_FOUND', `service ${ns}/${name} not found`);
    const ports = flags.port ? [flags.port] : (svc.spec?.ports ?? []).map((p) => p.port);
    const watcher = new DestinationWatcher(view, flags['identity-naming']);
    return ports.map((port) => {
      const snap = watcher.snapshot(ns, name, port);
      const routes = watcher.routes(ns, name, port).map((r) => ({ name: r.name, matches: r.matches.map(describeMatch) }));
      return { authority: `${serviceFqdn(name, ns)}:${port}`, exists: snap.exists, opaque: !!snap.opaque, endpoints: snap.endpoints.map(toWireEndpoint), routes };
    });
  });
  if (flags.output === 'json') {
    console.log(JSON.stringify(result.map((r) => ({ ...r, endpoints: r.endpoints.map(protoFieldNames) })), null, 2));
    return 0;
  }
  const blocks = result.map((r) => {
    const head = `${r.authority}${r.opaque ? ' (opaque)' : ''}`;
    const routes = r.routes.length ? `\n  routes: ${r.routes.map((x) => `${x.name} (${x.matches.join(', ')})`).join('; ')}` : '';
    if (r.endpoints.length === 0) return `${head}\n  no ready endpoints${routes}`;
    return `${head}\n${table(['ADDRESS', 'PORT', 'INBOUND', 'PROTOCOL', 'IDENTITY', 'SERVER NAME', 'WORKLOAD'], r.endpoints.map(endpointRow))}${routes}`;
  });
  console.log(blocks.join('\n\n'));
  return 0;
}

function endpointRow(e: Required<Endpoint>): string[] {
  const l = e.metricLabels;
  const workload = l.dst_external_workload ? `externalworkload/${l.dst_external_workload}` : l.dst_pod ? `pod/${l.dst_pod}` : '-';
  return [e.address, String(e.port), String(e.inboundPort), e.protocolHint.replace('PROTOCOL_', '').toLowerCase(), e.tlsIdentity || '- (not meshed)', e.serverName || '-', workload];
}

/** The maps among the messages printed: their keys are data, not field names. */
const MAP_FIELDS = new Set(['metricLabels', 'labels']);

/**
 * A message as `-o json` prints it: with the .proto's own field names (tls_identity, http_routes,
 * mesh_tls), as it always has; the loader's camelCase is a detail of the code (docs/adr/0024).
 */
function protoFieldNames(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(protoFieldNames);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), MAP_FIELDS.has(k) ? v : protoFieldNames(v)]),
  );
}

async function policy(kc: KubeConfig, arg: string, flags: Flags): Promise<number> {
  const name = objectName(arg, ['externalworkload', 'externalworkloads', 'ew'], 'externalworkload/NAME');
  const ns = flags.namespace;
  if (!flags.port) throw new OutpostError('INVALID_ARGUMENT', '--port is required for policy', { field: 'port' });
  const port = flags.port;
  const clusterDefault = flags['default-inbound-policy'];
  const result = await withView(kc, POLICY_KINDS, flags['trust-domain'], (view) => {
    const w = view.workload(ns, name);
    if (!w) throw new OutpostError('NOT_FOUND', `externalworkload ${ns}/${name} not found`);
    return { workload: `${ns}/${name}`, identity: w.identity, port, computed: policyFromView(view, w, port, clusterDefault) };
  });
  const p = toWireInboundServer(result.computed);
  if (flags.output === 'json') {
    console.log(JSON.stringify({ workload: result.workload, identity: result.identity, port, policy: protoFieldNames(p) }, null, 2));
    return 0;
  }
  const lines = [
    `workload   externalworkload/${name} -n ${ns}`,
    `identity   ${result.identity}`,
    `port       ${port}`,
    `server     ${p.labels.kind === 'server' ? `server/${p.labels.name}` : `none (default policy ${p.labels.name})`}`,
    `protocol   ${p.protocol.toLowerCase()}`,
    '',
    p.authorizations.length ? table(['AUTHORIZATION', 'CLIENTS', 'NETWORKS'], p.authorizations.map(authzRow)) : 'no authorization: every connection to this port is denied',
  ];
  for (const [i, r] of p.httpRoutes.entries()) {
    lines.push('', `route httproute/${r.labels?.name} ${result.computed.httpRoutes[i].matches.map(describeMatch).join(' | ')}`);
    const authorizations = r.authorizations ?? [];
    lines.push(authorizations.length ? table(['AUTHORIZATION', 'CLIENTS', 'NETWORKS'], authorizations.map(authzRow)) : '  no authorization: denied');
  }
  console.log(lines.join('\n'));
  return 0;
}

function authzRow(a: Authorization): string[] {
  const authn = a.authentication;
  const clients = !authn || 'unauthenticated' in authn ? 'any (unauthenticated allowed)' : (authn.meshTls.identities ?? []).map((i) => (i === '*' ? 'any authenticated' : i)).join(', ');
  const networks = a.networks ?? [];
  const nets = networks.length ? networks.map((n) => n.net + (n.except?.length ? ` except ${n.except.join(',')}` : '')).join(', ') : 'any';
  const labels = a.labels ?? {};
  return [`${labels.kind}/${labels.name}`, clients, nets];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [fmt(header), ...rows.map(fmt)].join('\n');
}
