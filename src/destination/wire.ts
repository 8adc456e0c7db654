// Maps discovery results to the messages of proto/outpost/destination.proto (src/api/gen types), and
// computes the add/remove/noEndpoints changes between two snapshots.
import type { EndpointSnapshot, ProtocolHint, ResolvedEndpoint } from '../api/model.js';
import type { Endpoint, ProtocolHint as WireProtocolHint, Update } from '../api/gen/destination.js';
import type { ServiceRoute } from '../core/routes/http-route.js';
import { toWireRouteMatch } from '../api/route-match.js';
import { endpointKey } from './endpoints.js';

/** The RouteSet message of a service port's routes. */
export function toWireRoutes(routes: readonly ServiceRoute[]): Extract<Update, { routes: unknown }> {
  return {
    routes: {
      routes: routes.map((r) => ({
        name: r.name,
        matches: r.matches.map(toWireRouteMatch),
      })),
    },
  };
}

const HINTS: Record<ProtocolHint, WireProtocolHint> = { unknown: 'PROTOCOL_UNKNOWN', h2: 'PROTOCOL_H2', opaque: 'PROTOCOL_OPAQUE' };

export function toWireEndpoint(e: ResolvedEndpoint): Required<Endpoint> {
  return {
    address: e.address,
    port: e.port,
    weight: e.weight,
    tlsIdentity: e.identity ?? '',
    serverName: e.serverName ?? '',
    protocolHint: HINTS[e.protocolHint],
    inboundPort: e.inboundPort,
    metricLabels: e.labels,
    zone: e.zone ?? '',
  };
}

function sameEndpoint(a: ResolvedEndpoint, b: ResolvedEndpoint): boolean {
  return JSON.stringify(toWireEndpoint(a)) === JSON.stringify(toWireEndpoint(b));
}

/**
 * The updates that take a client from `prev` (undefined = nothing sent yet) to `next`: removals
 * first, then additions (new or changed endpoints, keyed by address:port), then noEndpoints when
 * the set became (or starts) empty. Empty when nothing changed.
 */
export function diffSnapshots(prev: EndpointSnapshot | undefined, next: EndpointSnapshot): Update[] {
  const labels = next.labels;
  const before = new Map((prev?.endpoints ?? []).map((e) => [endpointKey(e), e]));
  const after = new Map(next.endpoints.map((e) => [endpointKey(e), e]));
  const removed = [...before.entries()].filter(([k]) => !after.has(k)).map(([, e]) => e);
  const added = [...after.entries()].filter(([k, e]) => !before.has(k) || !sameEndpoint(before.get(k)!, e)).map(([, e]) => e);
  const out: Update[] = [];
  if (removed.length) out.push({ remove: { endpoints: removed.map(toWireEndpoint), metricLabels: labels } });
  if (added.length) out.push({ add: { endpoints: added.map(toWireEndpoint), metricLabels: labels } });
  const becameEmpty = next.endpoints.length === 0 && (prev === undefined || prev.endpoints.length > 0 || prev.exists !== next.exists);
  if (becameEmpty) out.push({ noEndpoints: { exists: next.exists } });
  return out;
}
