// The one tap publisher of the data path: an HTTP exchange and the peer it went to, once it is over.
// The source is always the downstream client's address, whatever protocol carried the request.
import type { Clock } from '../../core/clock.js';
import type { TapHub } from './hub.js';

/** What tap shows of a request (every HTTP exchange carries these). */
export interface TappedRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  /** The downstream client, "ip:port". */
  readonly client: string;
}

/** Where the request went and who took part (the identities, the destination's labels). */
export interface TappedPeer {
  direction: 'inbound' | 'outbound';
  destination: string;
  sourceIdentity: string;
  destinationIdentity: string;
  destinationLabels: Record<string, string>;
  tls: boolean;
}

/** Publishes one finished request; costs one boolean check when nobody taps. */
export function publishTap(hub: TapHub, clock: Clock, x: TappedRequest, peer: TappedPeer, status: number, latencyMs: number, grpcStatus?: number): void {
  if (!hub.active) return;
  hub.publish({
    direction: peer.direction,
    source: x.client,
    destination: peer.destination,
    sourceIdentity: peer.sourceIdentity,
    destinationIdentity: peer.destinationIdentity,
    method: x.method,
    authority: x.authority,
    path: x.path,
    status,
    grpcStatus,
    latencyMs,
    timestampMs: clock.now(),
    destinationLabels: peer.destinationLabels,
    tls: peer.tls,
  });
}
