// Inbound policy per target port, watched once and kept (fail static), plus the per-connection
// state the hot path needs: client identity, and authz/HTTP metric handles cached per port.
import type { ProxyContext } from '../context.js';
import type { InboundPortPolicy } from '../../api/model.js';
import { joinLabels, labelString } from '../../core/metrics/registry.js';
import type { CounterCell } from '../../core/metrics/registry.js';
import type { HttpMetrics } from '../metrics/proxy-metrics.js';
import { onFirstUpdate } from './first-update.js';

/** What the inbound's policy state needs of the proxy. */
export type PolicyDeps = Pick<ProxyContext, 'policy' | 'metrics' | 'clock'>;

export class InboundPolicies {
  private readonly watches = new Map<number, ReturnType<ProxyContext['policy']['watchPort']>>();

  constructor(private readonly ctx: PolicyDeps) {}

  current(port: number): InboundPortPolicy | undefined {
    return this.watch(port).current();
  }

  private watch(port: number) {
    let w = this.watches.get(port);
    if (!w) {
      w = this.ctx.policy.watchPort(port);
      this.watches.set(port, w);
    }
    return w;
  }

  /**
   * Calls `cb` once the port's policy is known, or after `timeoutMs` (then it is denied): right after
   * a start, the first requests wait for the policy instead of being refused.
   */
  whenKnown(port: number, timeoutMs: number, cb: () => void): void {
    const w = this.watch(port);
    if (w.current()) return cb();
    onFirstUpdate(w, this.ctx.clock, timeoutMs, cb);
  }

  close(): void {
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
  }
}

export interface PortState {
  policy: InboundPortPolicy | undefined;
  base: string;
  allow: Map<Record<string, string>, CounterCell>;
  deny: CounterCell | undefined;
  http: Map<string, HttpMetrics>;
}

/** One inbound connection: who the client is, and cached handles per target port. */
export class InboundConnection {
  /** Target port from the transport header (HTTP detected inside an opaque-ALPN connection). */
  headerPort = 0;
  /** Called when the first request, stream or transport header arrives (the connection stops being pending). */
  onEstablished: (() => void) | undefined;
  private readonly ports = new Map<number, PortState>();

  constructor(
    private readonly ctx: Pick<ProxyContext, 'metrics'>,
    readonly clientId: string | undefined,
    readonly clientAddr: string,
    readonly clientIp: string,
  ) {}

  /** The connection carried its first request, stream or transport header. */
  established(): void {
    const cb = this.onEstablished;
    this.onEstablished = undefined;
    cb?.();
  }

  port(port: number, policies: InboundPolicies): PortState {
    const policy = policies.current(port);
    let st = this.ports.get(port);
    if (!st || st.policy !== policy) {
      st = {
        policy,
        base: labelString({ direction: 'inbound', target_addr: `127.0.0.1:${port}`, tls: this.clientId ? 'true' : 'no_identity', client_id: this.clientId }),
        allow: new Map(),
        deny: undefined,
        http: new Map(),
      };
      this.ports.set(port, st);
    }
    return st;
  }

  allowCell(st: PortState, http: boolean, authzLabels: Record<string, string>): CounterCell {
    let c = st.allow.get(authzLabels);
    if (!c) {
      const srv = st.policy?.labels ?? {};
      const labels = joinLabels(st.base, labelString({ srv_kind: srv.kind, srv_name: srv.name, authz_kind: authzLabels.kind, authz_name: authzLabels.name }));
      c = (http ? this.ctx.metrics.httpAuthzAllow : this.ctx.metrics.tcpAuthzAllow).cell(labels);
      st.allow.set(authzLabels, c);
    }
    return c;
  }

  denyCell(st: PortState, http: boolean): CounterCell {
    if (!st.deny) {
      const srv = st.policy?.labels ?? {};
      const labels = joinLabels(st.base, labelString({ srv_kind: srv.kind, srv_name: srv.name }));
      st.deny = (http ? this.ctx.metrics.httpAuthzDeny : this.ctx.metrics.tcpAuthzDeny).cell(labels);
    }
    return st.deny;
  }

  httpMetrics(st: PortState, authority: string): HttpMetrics {
    let h = st.http.get(authority);
    if (!h) {
      h = this.ctx.metrics.httpFor(joinLabels(st.base, labelString({ authority })));
      st.http.set(authority, h);
    }
    return h;
  }
}
