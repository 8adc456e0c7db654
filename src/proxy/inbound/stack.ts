// The inbound, in order. A connection from a peer proxy: accept (server.ts: pending-connection
// limits) -> tls (server.ts: TLS 1.3, client certificate, identity = URI SAN, revocations) -> detect
// (server.ts by ALPN: h2, http/1.1, or outpost.tcp/1 -> tcp.ts: transport header, then HTTP
// detected inside or opaque bytes authorized per connection) -> server (http.ts: each request an
// HttpExchange, from the lean relay or an HTTP/2 stream). Each request then runs these layers:
//
//   target port  named, declared by the workload, not the proxy's own   layers.ts
//   authorize    the port's policy for this client and route (403)      layers.ts
//   metrics      request_total / response_total / latency               layers.ts
//   tap          one event per request while someone taps               layers.ts
//   local app    127.0.0.1:<port>: pooled HTTP/1.1, or h2c              local-app.ts
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Handler } from '../http/exchange.js';
import type { TapHub } from '../tap/hub.js';
import { authorize, metrics, tap, targetPort, type InboundRequest } from './layers.js';
import type { LocalApp } from './local-app.js';
import type { InboundPolicies } from './policies.js';
import type { InboundTargets } from './target-ports.js';

export interface InboundStackDeps {
  policies: InboundPolicies;
  targets: InboundTargets;
  localApp: LocalApp;
  clock: Clock;
  log: Logger;
  tap: TapHub;
  /** This proxy's identity, the destination of its inbound requests (changes on rotation). */
  ownIdentity: () => string | undefined;
  /** How long a request waits for its port's policy right after a start (timeouts.detect). */
  policyWaitMs: number;
}

/** The handler every inbound HTTP exchange goes through. */
export function inboundHttpStack(d: InboundStackDeps): Handler<InboundRequest> {
  return targetPort(d.policies, d.targets, d.policyWaitMs)(
    authorize(d.policies, d.log)(
      metrics(d.clock)(
        tap(d.tap, d.ownIdentity)(
          d.localApp.handle,
        ),
      ),
    ),
  );
}
