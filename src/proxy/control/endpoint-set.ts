// Pure bookkeeping of one service's endpoints from destination updates (add / remove / noEndpoints),
// and the mapping from wire endpoints (src/api/gen) to the proxy's ResolvedEndpoint. Table-tested.
import type { EndpointSnapshot, ProtocolHint, ResolvedEndpoint } from '../../api/model.js';
import { RouteTable, type ServiceRoute } from '../../core/routes/http-route.js';
import type { Endpoint__Output, Route__Output, Update__Output } from '../../api/gen/destination.js';
import { fromWireRouteMatches } from '../../api/route-match.js';

/** The proxy's default inbound port, used when the destination service leaves inboundPort unset. */
export const DEFAULT_INBOUND_PORT = 4143;
export const DEFAULT_WEIGHT = 10_000;

export interface EndpointSetState {
  exists: boolean;
  endpoints: ReadonlyMap<string, ResolvedEndpoint>;
  labels: Record<string, string>;
  /** The service port's HTTPRoutes, compiled (absent: none). */
  routes?: RouteTable;
}

const EMPTY: EndpointSetState = { exists: true, endpoints: new Map(), labels: {} };

export function toServiceRoute(r: Route__Output): ServiceRoute {
  return { name: r.name ?? '', matches: fromWireRouteMatches(r.matches) };
}

const HINTS: Record<string, ProtocolHint> = { PROTOCOL_UNKNOWN: 'unknown', PROTOCOL_H2: 'h2', PROTOCOL_OPAQUE: 'opaque', '0': 'unknown', '1': 'h2', '2': 'opaque' };

export function endpointKey(ep: { address?: string; port?: number }): string {
  const address = ep.address ?? '';
  return address.includes(':') ? `[${address}]:${ep.port ?? 0}` : `${address}:${ep.port ?? 0}`;
}

export function toResolvedEndpoint(ep: Endpoint__Output): ResolvedEndpoint {
  return {
    address: ep.address ?? '',
    port: ep.port ?? 0,
    inboundPort: ep.inboundPort || DEFAULT_INBOUND_PORT,
    identity: ep.tlsIdentity || undefined,
    serverName: ep.serverName || undefined,
    protocolHint: HINTS[String(ep.protocolHint ?? 'PROTOCOL_UNKNOWN')] ?? 'unknown',
    weight: ep.weight || DEFAULT_WEIGHT,
    labels: { ...(ep.metricLabels ?? {}) },
    zone: ep.zone || undefined,
  };
}

/**
 * The state after one update. `first` marks the first message of a (re)opened stream: it carries the
 * full current set, so it replaces whatever was kept through an outage instead of merging into it.
 */
export function applyEndpointUpdate(previous: EndpointSetState | undefined, update: Update__Output, first: boolean): EndpointSetState {
  const base = first || !previous ? EMPTY : previous;
  const kind = update.update ?? (update.add ? 'add' : update.remove ? 'remove' : update.noEndpoints ? 'noEndpoints' : update.routes ? 'routes' : '');
  if (kind === 'add' && update.add) {
    const endpoints = new Map(base.endpoints);
    for (const ep of update.add.endpoints ?? []) endpoints.set(endpointKey(ep), toResolvedEndpoint(ep));
    const labels = { ...base.labels, ...(update.add.metricLabels ?? {}) };
    return { ...base, exists: true, endpoints, labels };
  }
  if (kind === 'remove' && update.remove) {
    const endpoints = new Map(base.endpoints);
    for (const ep of update.remove.endpoints ?? []) endpoints.delete(endpointKey(ep));
    return { ...base, endpoints };
  }
  if (kind === 'noEndpoints') {
    return { ...base, exists: update.noEndpoints?.exists ?? false, endpoints: new Map() };
  }
  if (kind === 'routes') {
    const routes = (update.routes?.routes ?? []).map(toServiceRoute);
    const next: EndpointSetState = { ...base };
    if (routes.length) next.routes = new RouteTable(routes);
    else delete next.routes;
    return next;
  }
  return base; // an unknown update kind from a newer server: ignore it
}

export function toEndpointSnapshot(state: EndpointSetState): EndpointSnapshot {
  const endpoints = [...state.endpoints.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ep]) => ep);
  const snapshot: EndpointSnapshot = { exists: state.exists, endpoints, labels: { ...state.labels } };
  if (state.routes) snapshot.routes = state.routes;
  // The Get stream carries no service-level protocol; a port whose every endpoint is opaque is treated as opaque.
  if (endpoints.length > 0 && endpoints.every((ep) => ep.protocolHint === 'opaque')) snapshot.opaque = true;
  return snapshot;
}
