// Logical services: an authority resolved through discovery into a balancer over its endpoints.
// Snapshots replace the endpoint set; per-endpoint metric label strings are built once here.
import type { EndpointSnapshot, EndpointWatch, ResolvedEndpoint } from '../types.js';
import type { ProxyContext } from '../context.js';
import { P2cBalancer, type Slot } from './balance.js';
import { labelString } from '../metrics/registry.js';
import type { HttpMetrics } from '../metrics/proxy-metrics.js';

export interface EndpointState {
  /** Prometheus labels for this (authority, endpoint). */
  labels: string;
  http: HttpMetrics;
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
    private readonly ctx: ProxyContext,
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
    const t = setTimeout(() => {
      this.waiters = this.waiters.filter((f) => f !== done);
      cb();
    }, timeoutMs);
    const done = () => {
      clearTimeout(t);
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
    const st = { labels, http: this.ctx.metrics.httpFor(labels), targetAddr, of: ep };
    slot.extra = st;
    return st;
  }

  close(): void {
    this.unsubscribe();
    this.watch.close();
  }
}

/** Logical services by authority, created on first use and kept (fail static). */
export class OutboundRouter {
  private readonly services = new Map<string, LogicalService>();

  constructor(private readonly ctx: ProxyContext) {}

  get(authority: string): LogicalService {
    let s = this.services.get(authority);
    if (!s) {
      s = new LogicalService(this.ctx, authority);
      this.services.set(authority, s);
    }
    return s;
  }

  close(): void {
    for (const s of this.services.values()) s.close();
    this.services.clear();
  }
}
