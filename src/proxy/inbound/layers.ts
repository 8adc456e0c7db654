// The inbound's per-request layers, each `(next) => handle` over an exchange and what the stages
// before it resolved: target port (known, declared, not the proxy's own), authorize (the port's
// policy for this client and route), metrics and tap. stack.ts chains them before the local app.
// A request has one target object, filled in stage by stage; hooks are made once per stack.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { DoneHook, HttpExchange, Layer, SendingHook } from '../http/exchange.js';
import { proxyError } from '../http/errors.js';
import type { TapHub } from '../tap/hub.js';
import { publishTap } from '../tap/publish.js';
import { authorizeRequest } from './authorize.js';
import type { InboundConnection, InboundPolicies, PortState } from './policies.js';
import type { InboundTargets } from './target-ports.js';
import type { HttpMetrics } from '../metrics/proxy-metrics.js';

/** What the server stage knows: the peer's connection and the target port it named (0: none). */
export interface InboundRequest {
  conn: InboundConnection;
  port: number;
}

/** After authorization: the port's policy state (metric handles cached per connection), and the layers' state. */
export interface Authorized extends InboundRequest {
  st: PortState;
  startMs: number;
  metrics: HttpMetrics | undefined;
  clock: Clock | undefined;
  tap: TapHub | undefined;
  ownIdentity: (() => string | undefined) | undefined;
  x: HttpExchange | undefined;
}

/** The one target object of a request, filled in by the layers. */
export function newInboundRequest(conn: InboundConnection, port: number): InboundRequest {
  const t: Authorized = { conn, port, st: undefined as unknown as PortState, startMs: 0, metrics: undefined, clock: undefined, tap: undefined, ownIdentity: undefined, x: undefined };
  return t;
}

/**
 * The target port: named (else 400), its policy and the workload's ports known (right after a start
 * the request waits up to `waitMs`), and a port of the workload, never one of the proxy's own (403).
 */
export function targetPort(policies: InboundPolicies, targets: InboundTargets, waitMs: number): Layer<InboundRequest> {
  return (next) => (x, t) => {
    const port = t.port;
    if (!port) return x.respond(proxyError('no_target_port', 'no target port'));
    policies.whenKnown(port, waitMs, () =>
      targets.whenKnown(port, waitMs, () => {
        // The peer may have given up while the policy was awaited.
        if (x.wire.kind === 'h2' && x.wire.stream.destroyed) return;
        const refusal = targets.check(port, policies.current(port), t.conn.clientId);
        if (refusal) return x.respond(proxyError('target_port_refused', refusal.message));
        next(x, t);
      }),
    );
  };
}

/** The port's policy decides for this client and request (denied: 403, counted in inbound_http_authz_deny_total). */
export function authorize(policies: InboundPolicies, log: Logger): Layer<InboundRequest, Authorized> {
  return (next) => (x, t) => {
    const { conn, port } = t;
    const st = conn.port(port, policies);
    const d = authorizeRequest(st.policy, conn.clientId, conn.clientIp, x);
    if (!d.allowed) {
      conn.denyCell(st, true).value++;
      log.debug('request denied', { port, client: conn.clientId, method: x.method, path: x.path, reason: d.labels.reason });
      return x.respond(proxyError('unauthorized'));
    }
    conn.allowCell(st, true, d.labels).value++;
    const a = t as Authorized;
    a.st = st;
    next(x, a);
  };
}

const requestCounted: SendingHook<Authorized> = (t) => t.metrics!.request.value++;
const responseCounted: DoneHook<Authorized> = (t, status, failure, grpcStatus) => t.metrics!.response(status, t.clock!.monotonicMs() - t.startMs, failure, grpcStatus);

/** request_total when the request goes to the app, response_total and response_latency_ms when it is over. */
export function metrics(clock: Clock): Layer<Authorized> {
  return (next) => (x, t) => {
    t.metrics = t.conn.httpMetrics(t.st, x.authority);
    t.clock = clock;
    t.startMs = clock.monotonicMs();
    x.onSending(requestCounted, t);
    x.onDone(responseCounted, t);
    next(x, t);
  };
}

const tapped: DoneHook<Authorized> = (t, status, _failure, grpcStatus) => {
  const { conn, port } = t;
  const peer = { direction: 'inbound', destination: `127.0.0.1:${port}`, sourceIdentity: conn.clientId ?? '', destinationIdentity: t.ownIdentity!() ?? '', destinationLabels: {}, tls: conn.clientId !== undefined } as const;
  publishTap(t.tap!, t.clock!, t.x!, peer, status, t.clock!.monotonicMs() - t.startMs, grpcStatus);
};

/** One tap event per finished request while someone taps; `ownIdentity` is this proxy's (the destination's). */
export function tap(hub: TapHub, ownIdentity: () => string | undefined): Layer<Authorized> {
  return (next) => (x, t) => {
    if (hub.active) {
      t.tap = hub;
      t.ownIdentity = ownIdentity;
      t.x = x;
      x.onDone(tapped, t);
    }
    next(x, t);
  };
}
