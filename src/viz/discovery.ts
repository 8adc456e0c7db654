// Finds every proxy to scrape and tap: ExternalWorkloads (their status.proxy.adminAddress, else the
// viz.outpost.io/admin-address annotation; kept only when on one of the workload's own IPs) watched
// through @kubernetes/client-node informers, injected pods (pod-targets.ts), plus static --scrape-target entries. Also keeps
// HTTPRoutes for `viz routes`.
import { CoreV1Api, CustomObjectsApi, makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../core/clock.js';
import { OutpostError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_TRUST_DOMAIN, effectiveWorkload, groupNameOf } from '../core/workloads/effective.js';
import { routesForService, type HttpRouteLike, type ServiceRoute } from '../core/routes/http-route.js';
import { isIP } from 'node:net';
import type { TargetLabels } from './backend.js';
import { OPAQUE_PORTS_ANNOTATION, parsePortList } from '../policy/servers.js';
import { MESHED_POD_SELECTOR, podInfo } from './pod-targets.js';
import type { PodNaming } from '../core/workloads/pod.js';

export const ADMIN_ADDRESS_ANNOTATION = 'viz.outpost.io/admin-address';
export const TAP_ADDRESS_ANNOTATION = 'viz.outpost.io/tap-address';
const DEFAULT_TAP_PORT = 4190;

export interface WorkloadInfo {
  /** "namespace/name" */
  key: string;
  labels: TargetLabels;
  identity: string;
  health: 'Ready' | 'NotReady' | 'Unknown';
  /** host:port of the proxy's admin server (metrics), when known. */
  adminAddress?: string;
  /** host:port of the proxy's tap server. */
  tapAddress?: string;
  ports: { name?: string; port: number }[];
  /** Addresses the workload reported (status or annotation) that the viz will not connect to, and why. */
  refused?: string[];
  /** Every declared port is opaque by config.linkerd.io/opaque-ports (own or its group's): tap has nothing to show. */
  allPortsOpaque?: boolean;
}

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

/** A client-node informer that restarts with backoff after errors (it stops on any error but 410). */
class RestartingInformer<T extends KubernetesObject> {
  readonly informer: Informer<T> & ObjectCache<T>;
  private timer: TimerHandle | undefined;
  private backoffMs = 200;
  private stopped = false;
  readonly synced: Promise<void>;
  private markSynced!: () => void;

  constructor(
    kc: KubeConfig,
    path: string,
    list: () => Promise<any>,
    private readonly clock: Clock,
    private readonly log: Logger,
    onChange: () => void,
    labelSelector?: string,
  ) {
    this.synced = new Promise((r) => (this.markSynced = r));
    this.informer = makeInformer<T>(kc, path, async () => {
      try {
        const body = await list();
        this.backoffMs = 200;
        return body;
      } catch (e: any) {
        if (e?.code === 404) return { items: [], metadata: { resourceVersion: '' } };
        throw e;
      } finally {
        this.markSynced();
      }
    }, labelSelector);
    for (const ev of ['add', 'update', 'delete'] as const) this.informer.on(ev, onChange);
    this.informer.on('error', (err) => this.restartLater(err));
  }

  start(): void {
    this.informer.start().catch((e) => this.restartLater(e));
  }

  private restartLater(err: unknown): void {
    if (this.stopped || this.timer) return;
    this.log.debug('informer stopped; restarting', { error: err instanceof Error ? err.message : String(err) });
    const delay = this.backoffMs;
    this.backoffMs = Math.min(5000, this.backoffMs * 2);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.start();
    }, delay);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    void this.informer.stop();
  }
}

export class WorkloadDiscovery {
  private readonly ews: RestartingInformer<KubernetesObject>;
  private readonly routes: RestartingInformer<KubernetesObject>;
  private readonly groups: RestartingInformer<KubernetesObject>;
  /** Injected pods (an API without pods, like the embedded one, answers 404: none). */
  private readonly pods: RestartingInformer<KubernetesObject>;
  private readonly trustDomain: string;
  private readonly podNaming: PodNaming;
  private cache: WorkloadInfo[] | undefined;
  private readonly log: Logger;
  /** Refusals already logged (each once). */
  private readonly warned = new Set<string>();
  readonly synced: Promise<void>;

  constructor(opts: { kubeConfig: KubeConfig; clock: Clock; log: Logger; staticTargets: WorkloadInfo[]; trustDomain?: string; podNaming: PodNaming }) {
    this.trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    this.podNaming = opts.podNaming;
    this.log = opts.log;
    const api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    this.staticTargets = opts.staticTargets;
    const invalidate = () => (this.cache = undefined);
    this.ews = new RestartingInformer(opts.kubeConfig, '/apis/workload.linkerd.io/v1beta1/externalworkloads', () => api.listClusterCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads' }), opts.clock, opts.log, invalidate);
    this.routes = new RestartingInformer(opts.kubeConfig, '/apis/policy.linkerd.io/v1beta3/httproutes', () => api.listClusterCustomObject({ group: 'policy.linkerd.io', version: 'v1beta3', plural: 'httproutes' }), opts.clock, opts.log, () => {});
    this.groups = new RestartingInformer(opts.kubeConfig, '/apis/workload.linkerd.io/v1beta1/workloadgroups', () => api.listClusterCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', plural: 'workloadgroups' }), opts.clock, opts.log, invalidate);
    const core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.pods = new RestartingInformer(opts.kubeConfig, '/api/v1/pods', () => core.listPodForAllNamespaces({ labelSelector: MESHED_POD_SELECTOR }), opts.clock, opts.log, invalidate, MESHED_POD_SELECTOR);
    this.synced = Promise.all([this.ews.synced, this.routes.synced, this.groups.synced, this.pods.synced]).then(() => {});
  }

  private readonly staticTargets: WorkloadInfo[];

  start(): void {
    this.ews.start();
    this.routes.start();
    this.groups.start();
    this.pods.start();
  }

  stop(): void {
    this.ews.stop();
    this.routes.stop();
    this.groups.stop();
    this.pods.stop();
  }

  /** Every workload: API ones (with static admin addresses merged in by name) then static-only ones. */
  workloads(): WorkloadInfo[] {
    if (this.cache) return this.cache;
    const byKey = new Map<string, WorkloadInfo>();
    for (const ew of this.ews.informer.list()) {
      const groupName = groupNameOf(ew as never);
      const group = groupName ? this.groups.informer.get(groupName, ew.metadata?.namespace) : undefined;
      const w = workloadInfo(ew, group, this.trustDomain);
      for (const r of w.refused ?? []) {
        if (this.warned.has(`${w.key} ${r}`)) continue;
        this.warned.add(`${w.key} ${r}`);
        this.log.warn('not scraping or tapping an address the workload reported', { workload: w.key, reason: r });
      }
      byKey.set(w.key, w);
    }
    for (const p of this.pods.informer.list()) {
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
    return routesForService(this.routes.informer.list() as HttpRouteLike[], namespace, service);
  }
}
