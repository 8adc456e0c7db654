// The inbound's per-request layers, each `(next) => handle` over an exchange and what the stages
// before it resolved: target port (known, declared, not the proxy's own), authorize (the port's
// policy for this client and route), metrics and tap. stack.ts chains them before the local app.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Layer } from '../http/exchange.js';
import { onDone, onSending } from '../http/exchange.js';
import { proxyError } from '../http/errors.js';
import type { TapHub } from '../tap/hub.js';
import { publishTap } from '../tap/publish.js';
import { authorizeRequest } from './authorize.js';
import type { InboundConnection, InboundPolicies, PortState } from './policies.js';
import type { InboundTargets } from './target-ports.js';

/** What the server stage knows: the peer's connection and the target port it named (0: none). */
export interface InboundRequest {
  conn: InboundConnection;
  port: number;
}

/** After authorization: the port's policy state (metric handles cached per connection). */
export interface Authorized extends InboundRequest {
  st: PortState;
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
    const d = authorizeRequest(st.policy, conn.clientId, conn.clientIp, { method: x.method, target: x.path, header: x.header });
    if (!d.allowed) {
      conn.denyCell(st, true).value++;
      log.debug('request denied', { port, client: conn.clientId, method: x.method, path: x.path, reason: d.labels.reason });
      return x.respond(proxyError('unauthorized'));
    }
    conn.allowCell(st, true, d.labels).value++;
    next(x, { conn, port, st });
  };
}

/** request_total when the request goes to the app, response_total and response_latency_ms when it is over. */
export function metrics(clock: Clock): Layer<Authorized> {
  return (next) => (x, t) => {
    const m = t.conn.httpMetrics(t.st, x.authority);
    const start = clock.monotonicMs();
    onSending(x, () => m.request.value++);
    onDone(x, (status, failure, grpcStatus) => m.response(status, clock.monotonicMs() - start, failure, grpcStatus));
    next(x, t);
  };
}

/** One tap event per finished request while someone taps; `ownIdentity` is this proxy's (the destination's). */
export function tap(hub: TapHub, clock: Clock, ownIdentity: () => string | undefined): Layer<Authorized> {
  return (next) => (x, t) => {
    if (hub.active) {
      const start = clock.monotonicMs();
      const { conn, port } = t;
      onDone(x, (status, _failure, grpcStatus) => {
        const peer = { direction: 'inbound', destination: `127.0.0.1:${port}`, sourceIdentity: conn.clientId ?? '', destinationIdentity: ownIdentity() ?? '', destinationLabels: {}, tls: conn.clientId !== undefined } as const;
        publishTap(hub, clock, x, peer, status, clock.monotonicMs() - start, grpcStatus);
      });
    }
    next(x, t);
  };
}
