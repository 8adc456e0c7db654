// The outbound's per-request layers, each `(next) => handle` over an exchange and what the stages
// before it resolved: router (authority -> logical service), logical (discovery answer, route
// name), balance (P2C endpoint, its load and latency), metrics and tap. The retry layer is in
// retry.ts, the endpoint (how bytes go out) in endpoint.ts; stack.ts chains them. A request has
// one target object, filled in stage by stage; hooks are made once per stack (no closure per request).
import type { Clock } from '../../core/clock.js';
import type { DoneHook, Layer, SendingHook } from '../http/exchange.js';
import { proxyError } from '../http/errors.js';
import type { HttpMetrics } from '../metrics/proxy-metrics.js';
import type { TapHub } from '../tap/hub.js';
import { publishTap } from '../tap/publish.js';
import type { EndpointSlot, LogicalService, OutboundRouter } from './logical.js';
import type { HttpExchange, Handler } from '../http/exchange.js';

/** After the logical stage: the service and the HTTPRoute of it that takes the request (undefined: none). */
export interface Logical {
  svc: LogicalService;
  route: string | undefined;
}

/** One attempt (retry layer): its number, the endpoint to avoid, and the stage a new attempt starts at. */
export interface Attempt extends Logical {
  n: number;
  exclude: EndpointSlot | undefined;
  /** The exchange's hooks before the first attempt (a new attempt drops the failed one's). */
  mark: number;
  again: Handler<Attempt> | undefined;
  /** Set by the balance layer: closes the failed attempt's balancer accounting. */
  abandon: ((t: Endpoint) => void) | undefined;
}

/** The endpoint the balancer chose for this attempt, and the per-attempt state of the layers. */
export interface Endpoint extends Attempt {
  slot: EndpointSlot;
  /** When the attempt began (clock.monotonicMs), for latencies. */
  startMs: number;
  /** The balancer counts this attempt as pending (between `start` and `finish`). */
  open: boolean;
  metrics: HttpMetrics | undefined;
  clock: Clock;
  tap: TapHub | undefined;
  ownIdentity: (() => string | undefined) | undefined;
}

/** Authority -> its logical service, once discovery answered (or `waitMs` passed). */
export function router(services: OutboundRouter, waitMs: number): Layer<void, LogicalService> {
  return (next) => (x) => {
    const svc = services.get(x.authority);
    if (svc.snapshot) return next(x, svc);
    svc.whenResolved(waitMs, () => next(x, svc));
  };
}

/** Discovery's answer for the service, and the route name of the request (metrics' route_name). */
export function logical(clock: Clock): Layer<LogicalService, Logical> {
  return (next) => (x, svc) => {
    const snap = svc.snapshot;
    if (!snap) return x.respond(proxyError('discovery_timeout', `${svc.authority}: discovery did not answer`));
    if (!snap.exists) return x.respond(proxyError('no_such_service', `${svc.authority}: no such service`));
    const route = snap.routes ? snap.routes.routeOf(x) : undefined;
    // The one target object of this request, filled in by the stages below.
    const t: Endpoint = { svc, route, n: 0, exclude: undefined, mark: 0, again: undefined, abandon: undefined, slot: undefined as unknown as EndpointSlot, startMs: 0, open: false, metrics: undefined, clock, tap: undefined, ownIdentity: undefined };
    next(x, t);
  };
}

const balanceStarted: SendingHook<Endpoint> = (t) => {
  t.svc.balancer.start(t.slot);
  t.open = true;
};
const balanceFinished: DoneHook<Endpoint> = (t, _status, failure) => closeAttempt(t, !failure);
function closeAttempt(t: Endpoint, ok: boolean): void {
  if (!t.open) return;
  t.open = false;
  t.svc.balancer.finish(t.slot, t.clock.monotonicMs() - t.startMs, ok);
}
const abandonAttempt = (t: Endpoint) => closeAttempt(t, false);

/** Picks the endpoint (P2C over peak-EWMA) and reports the attempt's load and latency to the balancer. */
export function balance(clock: Clock): Layer<Attempt, Endpoint> {
  return (next) => (x, a) => {
    const t = a as Endpoint;
    const slot = t.svc.balancer.pick(t.exclude);
    if (!slot) return x.respond(proxyError('no_endpoints', `${t.svc.authority}: no endpoints`));
    t.slot = slot;
    t.startMs = clock.monotonicMs();
    t.open = false;
    t.abandon = abandonAttempt;
    x.onSending(balanceStarted, t);
    x.onDone(balanceFinished, t);
    next(x, t);
  };
}

const requestCounted: SendingHook<Endpoint> = (t) => t.metrics!.request.value++;
const responseCounted: DoneHook<Endpoint> = (t, status, failure, grpcStatus) => t.metrics!.response(status, t.clock.monotonicMs() - t.startMs, failure, grpcStatus);

/** request_total when the request leaves, response_total and response_latency_ms when it is over. */
export const metrics: Layer<Endpoint> = (next) => (x, t) => {
  t.metrics = t.svc.httpMetrics(t.slot, t.route);
  x.onSending(requestCounted, t);
  x.onDone(responseCounted, t);
  next(x, t);
};

/** One tap event per finished request while someone taps; `ownIdentity` is this proxy's (the source's). */
export function tap(hub: TapHub, ownIdentity: () => string | undefined): Layer<Endpoint> {
  return (next) => (x, t) => {
    if (hub.active) {
      t.tap = hub;
      t.ownIdentity = ownIdentity;
      x.onDone(tapped, { x, t });
    }
    next(x, t);
  };
}

const tapped: DoneHook<{ x: HttpExchange; t: Endpoint }> = ({ x, t }, status, _failure, grpcStatus) => {
  const ep = t.slot.target;
  const peer = { direction: 'outbound', destination: `${ep.address}:${ep.port}`, sourceIdentity: t.ownIdentity!() ?? '', destinationIdentity: ep.identity ?? '', destinationLabels: ep.labels, tls: ep.identity !== undefined } as const;
  publishTap(t.tap!, t.clock, { method: x.method, path: x.path, authority: t.svc.authority, client: x.client }, peer, status, t.clock.monotonicMs() - t.startMs, grpcStatus);
};
