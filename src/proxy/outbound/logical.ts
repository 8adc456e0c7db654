// Logical services: an authority resolved through discovery into a balancer over its endpoints.
// Snapshots replace the endpoint set; per-endpoint metric label strings are built once here. An
// authority unused for `idleMs` is evicted with its discovery stream (apps may name many hosts).
import type { EndpointWatch } from '../types.js';
import type { EndpointSnapshot, ResolvedEndpoint } from '../../api/model.js';
import type { ProxyContext } from '../context.js';
import { P2cBalancer, type Slot } from './balance.js';
import { joinLabels, labelString } from '../../core/metrics/registry.js';
import type { HttpMetrics } from '../metrics/proxy-metrics.js';
import type { RequestView } from '../../core/routes/http-route.js';
import { IdleCache } from '../idle-cache.js';

/** What a logical service needs of the proxy. */
export type LogicalDeps = Pick<ProxyContext, 'clock' | 'discovery' | 'metrics'>;

export interface EndpointState {
  /** Prometheus labels for this (authority, endpoint). */
  labels: string;
  http: HttpMetrics;
  /** The same with route_name, by route (created on a route's first request). */
  byRoute: Map<string, HttpMetrics>;
  targetAddr: string;
}

export type EndpointSlot = Slot<ResolvedEndpoint>;

export class LogicalService {
  readonly balancer: P2cBalancer<ResolvedEndpoint>;
  snapshot: EndpointSnapshot | undefined;
  private readonly watch: EndpointWatch;
  private readonly unsubscribe: () => void;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly ctx: LogicalDeps,
    readonly authority: string,
  ) {
    this.balancer = new P2cBalancer(ctx.clock);
    this.watch = ctx.discovery.resolve(authority);
    this.unsubscribe = this.watch.subscribe((s) => this.apply(s));
    const first = this.watch.current();
    if (first) this.apply(first);
  }

  private apply(s: EndpointSnapshot): void {
    this.snapshot = s;
    this.balancer.update(s.endpoints.map((e) => ({ key: `${e.address}:${e.port}`, target: e })));
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Calls `cb` once a snapshot is known (at once when it is), or after `timeoutMs`. */
  whenResolved(timeoutMs: number, cb: () => void): void {
    if (this.snapshot) return cb();
    const clock = this.ctx.clock;
    const t = clock.setTimeout(() => {
      this.waiters = this.waiters.filter((f) => f !== done);
      cb();
    }, timeoutMs);
    const done = () => {
      clock.clearTimeout(t);
      cb();
    };
    this.waiters.push(done);
  }

  /** Metric labels and handles for an endpoint, cached on its balancer slot. */
  state(slot: EndpointSlot): EndpointState {
    const cached = slot.extra as (EndpointState & { of: ResolvedEndpoint }) | undefined;
    if (cached && cached.of === slot.target) return cached;
    const ep = slot.target;
    const targetAddr = `${ep.address}:${ep.port}`;
    const labels = labelString({
      direction: 'outbound',
      authority: this.authority,
      target_addr: targetAddr,
      tls: ep.identity ? 'true' : 'no_identity',
      server_id: ep.identity,
      ...this.snapshot?.labels,
      ...ep.labels,
    });
    const st = { labels, http: this.ctx.metrics.httpFor(labels), byRoute: new Map<string, HttpMetrics>(), targetAddr, of: ep };
    slot.extra = st;
    return st;
  }

  /** The route of the service's HTTPRoutes that takes this request (undefined: the default route). */
  routeOf(req: RequestView): string | undefined {
    return this.snapshot?.routes?.routeOf(req);
  }

  /** The HTTP metrics of a request to an endpoint: labelled with route_name when a route took it. */
  httpMetrics(slot: EndpointSlot, route: string | undefined): HttpMetrics {
    const st = this.state(slot);
    if (route === undefined) return st.http;
    let h = st.byRoute.get(route);
    if (!h) st.byRoute.set(route, (h = this.ctx.metrics.httpFor(joinLabels(st.labels, labelString({ route_name: route })))));
    return h;
  }

  close(): void {
    this.unsubscribe();
    this.watch.close();
  }
}

/**
 * Logical services by authority, created on first use and kept while used (fail static: a service
 * keeps its last snapshot through control-plane outages); one unused for `idleMs` is closed, its
 * discovery stream too, and counted in outbound_authorities_evicted_total.
 */
export class OutboundRouter {
  private readonly services: IdleCache<LogicalService>;

  constructor(private readonly deps: LogicalDeps & { idleMs: number }) {
    const evicted = deps.metrics.authoritiesEvicted.cell('');
    this.services = new IdleCache({ clock: deps.clock, idleMs: deps.idleMs, close: (s) => s.close(), onEvict: () => evicted.value++ });
  }

  /** The service of `authority`; each call counts as a use. */
  get(authority: string): LogicalService {
    return this.services.get(authority, () => new LogicalService(this.deps, authority));
  }

  /** How many authorities are open (each with a discovery stream). */
  get size(): number {
    return this.services.size;
  }

  close(): void {
    this.services.close();
  }
}
