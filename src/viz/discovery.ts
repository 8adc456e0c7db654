// Finds every proxy to scrape and tap: ExternalWorkloads (their status.proxy.adminAddress, else the
// viz.outpost.io/admin-address annotation; kept only when on one of the workload's own IPs) watched
// through the process's shared informers (src/kube), injected pods (pod-targets.ts), plus static --scrape-target entries. Also keeps
// HTTPRoutes for `viz routes`.
import type { ClusterView } from '../kube/cluster-view.js';
import type { Informer } from '../kube/informer.js';
import { OutpostError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_TRUST_DOMAIN, effectiveWorkload, groupNameOf } from '../core/workloads/effective.js';
import { routesForService, type HttpRouteLike, type ServiceRoute } from '../core/routes/http-route.js';
import { isIP } from 'node:net';
import type { WorkloadInfo } from './workload-info.js';
import { OPAQUE_PORTS_ANNOTATION, parsePortList } from '../core/workloads/opaque-ports.js';
import { MESHED_POD_SELECTOR, podInfo } from './pod-targets.js';
import type { PodNaming } from '../core/workloads/pod.js';

export const ADMIN_ADDRESS_ANNOTATION = 'viz.outpost.io/admin-address';
export const TAP_ADDRESS_ANNOTATION = 'viz.outpost.io/tap-address';
const DEFAULT_TAP_PORT = 4190;

/** Parses --scrape-target `NS/NAME=HOST:PORT[,tap=HOST:PORT]`. */
export function parseScrapeTarget(s: string): WorkloadInfo {
  const m = /^([a-z0-9.-]+)\/([a-z0-9.-]+)=([^,]+:\d+)(?:,tap=([^,]+:\d+))?$/.exec(s);
  if (!m) throw new OutpostError('CONFIG_INVALID', `--scrape-target: "${s}" is not NAMESPACE/NAME=HOST:PORT[,tap=HOST:PORT]`, { field: 'scrape-target' });
  return { key: `${m[1]}/${m[2]}`, labels: { namespace: m[1], workload: m[2], app: m[2], workload_kind: 'externalworkload' }, identity: '', health: 'Unknown', adminAddress: m[3], tapAddress: m[4] ?? defaultTap(m[3]), ports: [] };
}

function defaultTap(admin: string): string {
  return `${admin.slice(0, admin.lastIndexOf(':'))}:${DEFAULT_TAP_PORT}`;
}

/** The IP of "ip:port" or "[ipv6]:port" (IPv4-mapped IPv6 as IPv4), undefined for a hostname or a malformed address. */
function ipOf(address: string): string | undefined {
  const m = /^\[([^\]]+)\]:\d+$/.exec(address) ?? /^([^:[\]]+):\d+$/.exec(address);
  if (!m) return undefined;
  const ip = m[1].toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return isIP(ip) ? ip : undefined;
}

/**
 * Whether the viz may connect to an address a workload reported (issue 12 item 6: a workload
 * owner must not point the viz at another server): its host must be one of the workload's own
 * spec.workloadIPs. So loopback is allowed only for a workload whose IPs are loopback (the embedded
 * demo), and a hostname, which could resolve anywhere, never. Operator --scrape-target entries
 * are not checked.
 */
export function isOwnAddress(address: string, workloadIPs: readonly string[]): boolean {
  const ip = ipOf(address);
  return ip !== undefined && workloadIPs.some((w) => ipOf(w.includes(':') && !w.startsWith('[') ? `[${w}]:0` : `${w}:0`) === ip);
}

function allOpaque(ports: number[], annotation: string | undefined): boolean {
  const opaque = parsePortList(annotation);
  return ports.length > 0 && ports.every((p) => opaque.has(p));
}

/** What the viz knows of one ExternalWorkload object, with its WorkloadGroup if any (pure, table-tested). */
export function workloadInfo(ew: any, group?: any, trustDomain = DEFAULT_TRUST_DOMAIN): WorkloadInfo {
  const ns = ew.metadata?.namespace ?? 'default';
  const name = ew.metadata?.name ?? '';
  const ann = ew.metadata?.annotations ?? {};
  const ips: string[] = (ew.spec?.workloadIPs ?? []).map((w: any) => String(w?.ip ?? '')).filter(Boolean);
  const refused: string[] = [];
  const own = (address: unknown, what: string): string | undefined => {
    if (typeof address !== 'string' || address === '') return undefined;
    if (isOwnAddress(address, ips)) return address;
    refused.push(`${what} ${address} is not on one of the workload's IPs (${ips.join(', ') || 'none'})`);
    return undefined;
  };
  const admin = own(ew.status?.proxy?.adminAddress, 'admin address') ?? own(ann[ADMIN_ADDRESS_ANNOTATION], `annotation ${ADMIN_ADDRESS_ANNOTATION}`);
  const tap = own(ew.status?.proxy?.tapAddress, 'tap address') ?? own(ann[TAP_ADDRESS_ANNOTATION], `annotation ${TAP_ADDRESS_ANNOTATION}`);
  // The identity and labels the rest of the mesh uses: own spec, else the group's, else the defaults.
  const withMeshTLS = ew.spec?.meshTls && !ew.spec?.meshTLS ? { ...ew, spec: { ...ew.spec, meshTLS: ew.spec.meshTls } } : ew;
  const effective = effectiveWorkload({ metadata: { ...ew.metadata }, spec: withMeshTLS.spec ?? {} } as never, group, trustDomain);
  const ready = (ew.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  return {
    key: `${ns}/${name}`,
    labels: { namespace: ns, workload: name, app: effective.labels.app ?? name, workload_kind: 'externalworkload' },
    identity: effective.identity,
    health: ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown',
    adminAddress: admin,
    tapAddress: tap ?? (admin ? defaultTap(admin) : undefined),
    ports: (ew.spec?.ports ?? []).map((p: any) => ({ name: p.name, port: p.port })),
    ...(refused.length ? { refused } : {}),
    ...(allOpaque(effective.ports.map((p) => p.port), effective.annotations[OPAQUE_PORTS_ANNOTATION]) ? { allPortsOpaque: true } : {}),
  };
}

export class WorkloadDiscovery {
  private readonly ews: Informer;
  private readonly routes: Informer;
  private readonly groups: Informer;
  /** Pods (an API without pods, like the embedded one, answers 404: none); only injected ones are kept. */
  private readonly pods: Informer;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly trustDomain: string;
  private readonly podNaming: PodNaming;
  private cache: WorkloadInfo[] | undefined;
  private readonly log: Logger;
  /** Refusals already logged (each once). */
  private readonly warned = new Set<string>();
  private readonly staticTargets: WorkloadInfo[];
  readonly synced: Promise<void>;

  constructor(opts: { cluster: ClusterView; log: Logger; staticTargets: WorkloadInfo[]; trustDomain?: string; podNaming: PodNaming }) {
    this.trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    this.podNaming = opts.podNaming;
    this.log = opts.log;
    this.staticTargets = opts.staticTargets;
    this.ews = opts.cluster.informer('externalworkloads');
    this.routes = opts.cluster.informer('httproutes');
    this.groups = opts.cluster.informer('workloadgroups');
    this.pods = opts.cluster.informer('pods');
    this.synced = Promise.all([this.ews.synced, this.routes.synced, this.groups.synced, this.pods.synced]).then(() => {});
  }

  start(): void {
    const invalidate = () => (this.cache = undefined);
    for (const i of [this.ews, this.groups, this.pods]) this.unsubscribe.push(i.subscribe(invalidate, { replay: false }));
    invalidate();
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Every workload: API ones (with static admin addresses merged in by name) then static-only ones. */
  workloads(): WorkloadInfo[] {
    if (this.cache) return this.cache;
    const byKey = new Map<string, WorkloadInfo>();
    for (const ew of this.ews.items()) {
      const groupName = groupNameOf(ew as never);
      const group = groupName ? this.groups.get(groupName, ew.metadata?.namespace) : undefined;
      const w = workloadInfo(ew, group, this.trustDomain);
      for (const r of w.refused ?? []) {
        if (this.warned.has(`${w.key} ${r}`)) continue;
        this.warned.add(`${w.key} ${r}`);
        this.log.warn('not scraping or tapping an address the workload reported', { workload: w.key, reason: r });
      }
      byKey.set(w.key, w);
    }
    for (const p of this.pods.items()) {
      if (!Object.hasOwn(p.metadata?.labels ?? {}, MESHED_POD_SELECTOR)) continue;
      const w = podInfo(p as never, this.trustDomain, this.podNaming);
      if (w && !byKey.has(w.key)) byKey.set(w.key, w);
    }
    for (const s of this.staticTargets) {
      const w = byKey.get(s.key);
      if (w) byKey.set(s.key, { ...w, adminAddress: s.adminAddress, tapAddress: s.tapAddress, refused: undefined });
      else byKey.set(s.key, s);
    }
    this.cache = [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
    return this.cache;
  }

  /** The HTTPRoutes attached to a Service (any port), oldest first. */
  serviceRoutes(namespace: string, service: string): ServiceRoute[] {
    return routesForService(this.routes.items() as HttpRouteLike[], namespace, service);
  }
}
