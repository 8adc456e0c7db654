// The outbound, in order. A connection from the app: accept (listeners.ts: the HTTP proxy port,
// captured connections, upstream listeners) -> detect (transport/detect.ts: HTTP/1.1, h2c, else
// opaque TCP to tcp.ts) -> server (http.ts: each request an HttpExchange, from the lean relay or
// node:http/HTTP/2). Each request then runs these layers, outermost first:
//
//   router   authority -> logical service (discovery)            layers.ts
//   logical  discovery's answer (502/503), the route name        layers.ts
//   retry    a request that never left tries another endpoint    retry.ts
//   balance  P2C over peak-EWMA picks the endpoint, gets its load layers.ts
//   metrics  request_total / response_total / latency            layers.ts
//   tap      one event per request while someone taps            layers.ts
//   endpoint the bytes out: pooled mTLS HTTP/1.1, HTTP/2, plain  endpoint.ts
import type { Clock } from '../../core/clock.js';
import type { Handler, HttpExchange } from '../http/exchange.js';
import type { TapHub } from '../tap/hub.js';
import { balance, logical, metrics, router, tap, type Endpoint } from './layers.js';
import type { OutboundRouter } from './logical.js';
import { retry } from './retry.js';

export interface OutboundStackDeps {
  router: OutboundRouter;
  /** The last stage: how the bytes reach the endpoint (OutboundEndpoints.handle). */
  endpoint: Handler<Endpoint>;
  clock: Clock;
  tap: TapHub;
  /** This proxy's identity, the source of its outbound requests (changes on rotation). */
  ownIdentity: () => string | undefined;
  /** How long a request waits for discovery's first answer (timeouts.connect). */
  discoveryWaitMs: number;
}

/** The handler every outbound HTTP exchange goes through. */
export function outboundHttpStack(d: OutboundStackDeps): (x: HttpExchange) => void {
  return router(d.router, d.discoveryWaitMs)(
    logical(d.clock)(
      retry(
        balance(d.clock)(
          metrics(
            tap(d.tap, d.ownIdentity)(
              d.endpoint,
            ),
          ),
        ),
      ),
    ),
  );
}
