// The outbound's per-request layers, each `(next) => handle` over an exchange and what the stages
// before it resolved: router (authority -> logical service), logical (discovery answer, route
// name), balance (P2C endpoint, its load and latency), metrics and tap. The retry layer is in
// retry.ts, the endpoint (how bytes go out) in endpoint.ts; stack.ts chains them.
import type { Clock } from '../../core/clock.js';
import type { Layer } from '../http/exchange.js';
import { onDone, onSending } from '../http/exchange.js';
import { proxyError } from '../http/errors.js';
import type { TapHub } from '../tap/hub.js';
import { publishTap } from '../tap/publish.js';
import type { EndpointSlot, LogicalService, OutboundRouter } from './logical.js';

/** After the logical stage: the service and the HTTPRoute of it that takes the request (undefined: none). */
export interface Logical {
  svc: LogicalService;
  route: string | undefined;
}

/** One attempt (retry layer): its number, the endpoint to avoid, and how to try another. */
export interface Attempt extends Logical {
  n: number;
  exclude: EndpointSlot | undefined;
  /** The request did not leave `failed`: true when another attempt took it over (else answer it). */
  retry(failed: EndpointSlot, connectFailed: boolean): boolean;
}

/** The endpoint the balancer chose for this attempt. */
export interface Endpoint extends Attempt {
  slot: EndpointSlot;
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
export const logical: Layer<LogicalService, Logical> = (next) => (x, svc) => {
  const snap = svc.snapshot;
  if (!snap) return x.respond(proxyError('discovery_timeout', `${svc.authority}: discovery did not answer`));
  if (!snap.exists) return x.respond(proxyError('no_such_service', `${svc.authority}: no such service`));
  const route = snap.routes ? snap.routes.routeOf({ method: x.method, target: x.path, header: x.header }) : undefined;
  next(x, { svc, route });
};

/** Picks the endpoint (P2C over peak-EWMA) and reports the attempt's load and latency to the balancer. */
export function balance(clock: Clock): Layer<Attempt, Endpoint> {
  return (next) => (x, t) => {
    const balancer = t.svc.balancer;
    const slot = balancer.pick(t.exclude);
    if (!slot) return x.respond(proxyError('no_endpoints', `${t.svc.authority}: no endpoints`));
    const start = clock.monotonicMs();
    let open = false;
    const close = (ok: boolean) => {
      if (!open) return;
      open = false;
      balancer.finish(slot, clock.monotonicMs() - start, ok);
    };
    onSending(x, () => {
      balancer.start(slot);
      open = true;
    });
    onDone(x, (_status, failure) => close(!failure));
    next(x, {
      ...t,
      slot,
      retry: (failed, connectFailed) => {
        close(false);
        return t.retry(failed, connectFailed);
      },
    });
  };
}

/** request_total when the request leaves, response_total and response_latency_ms when it is over. */
export function metrics(clock: Clock): Layer<Endpoint> {
  return (next) => (x, t) => {
    const m = t.svc.httpMetrics(t.slot, t.route);
    const start = clock.monotonicMs();
    onSending(x, () => m.request.value++);
    onDone(x, (status, failure, grpcStatus) => m.response(status, clock.monotonicMs() - start, failure, grpcStatus));
    next(x, t);
  };
}

/** One tap event per finished request while someone taps; `ownIdentity` is this proxy's (the source's). */
export function tap(hub: TapHub, clock: Clock, ownIdentity: () => string | undefined): Layer<Endpoint> {
  return (next) => (x, t) => {
    if (hub.active) {
      const start = clock.monotonicMs();
      const ep = t.slot.target;
      onDone(x, (status, _failure, grpcStatus) => {
        const peer = { direction: 'outbound', destination: `${ep.address}:${ep.port}`, sourceIdentity: ownIdentity() ?? '', destinationIdentity: ep.identity ?? '', destinationLabels: ep.labels, tls: ep.identity !== undefined } as const;
        publishTap(hub, clock, { method: x.method, path: x.path, authority: t.svc.authority, client: x.client }, peer, status, clock.monotonicMs() - start, grpcStatus);
      });
    }
    next(x, t);
  };
}
