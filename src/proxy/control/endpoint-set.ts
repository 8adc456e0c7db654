// Pure bookkeeping of one service's endpoints from destination updates (add / remove / no_endpoints),
// and the mapping from wire endpoints to the proxy's ResolvedEndpoint. Table-tested.
import type { EndpointSnapshot, ProtocolHint, ResolvedEndpoint } from '../types.js';

/** The proxy's default inbound port, used when the destination service leaves inbound_port unset. */
export const DEFAULT_INBOUND_PORT = 4143;
export const DEFAULT_WEIGHT = 10_000;

/** A destination Endpoint as proto-loader decodes it (camelCase, enum names). */
export interface WireEndpoint {
  address?: string;
  port?: number;
  weight?: number;
  tlsIdentity?: string;
  serverName?: string;
  protocolHint?: string;
  inboundPort?: number;
  metricLabels?: Record<string, string>;
  zone?: string;
}

export interface WireEndpointSet {
  endpoints?: WireEndpoint[];
  metricLabels?: Record<string, string>;
}

export interface WireUpdate {
  add?: WireEndpointSet | null;
  remove?: WireEndpointSet | null;
  noEndpoints?: { exists?: boolean } | null;
  update?: string;
}

export interface EndpointSetState {
  exists: boolean;
  endpoints: ReadonlyMap<string, ResolvedEndpoint>;
  labels: Record<string, string>;
}

const EMPTY: EndpointSetState = { exists: true, endpoints: new Map(), labels: {} };

const HINTS: Record<string, ProtocolHint> = { PROTOCOL_UNKNOWN: 'unknown', PROTOCOL_H2: 'h2', PROTOCOL_OPAQUE: 'opaque', '0': 'unknown', '1': 'h2', '2': 'opaque' };

export function endpointKey(ep: { address?: string; port?: number }): string {
  const address = ep.address ?? '';
  return address.includes(':') ? `[${address}]:${ep.port ?? 0}` : `${address}:${ep.port ?? 0}`;
}

export function toResolvedEndpoint(ep: WireEndpoint): ResolvedEndpoint {
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
export function applyEndpointUpdate(previous: EndpointSetState | undefined, update: WireUpdate, first: boolean): EndpointSetState {
  const base = first || !previous ? EMPTY : previous;
  const kind = update.update ?? (update.add ? 'add' : update.remove ? 'remove' : update.noEndpoints ? 'noEndpoints' : '');
  if (kind === 'add' && update.add) {
    const endpoints = new Map(base.endpoints);
    for (const ep of update.add.endpoints ?? []) endpoints.set(endpointKey(ep), toResolvedEndpoint(ep));
    const labels = { ...base.labels, ...(update.add.metricLabels ?? {}) };
    return { exists: true, endpoints, labels };
  }
  if (kind === 'remove' && update.remove) {
    const endpoints = new Map(base.endpoints);
    for (const ep of update.remove.endpoints ?? []) endpoints.delete(endpointKey(ep));
    return { exists: base.exists, endpoints, labels: base.labels };
  }
  if (kind === 'noEndpoints') {
    return { exists: update.noEndpoints?.exists ?? false, endpoints: new Map(), labels: base.labels };
  }
  return base; // an unknown update kind from a newer server: ignore it
}

export function toEndpointSnapshot(state: EndpointSetState): EndpointSnapshot {
  const endpoints = [...state.endpoints.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ep]) => ep);
  const snapshot: EndpointSnapshot = { exists: state.exists, endpoints, labels: { ...state.labels } };
  // The Get stream carries no service-level protocol; a port whose every endpoint is opaque is treated as opaque.
  if (endpoints.length > 0 && endpoints.every((ep) => ep.protocolHint === 'opaque')) snapshot.opaque = true;
  return snapshot;
}
