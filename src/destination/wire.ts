// Maps discovery results to the wire messages of proto/outpost/destination.proto (proto-loader
// objects, keepCase), and computes the add/remove/no_endpoints changes between two snapshots.
import type { EndpointSnapshot, ProtocolHint, ResolvedEndpoint } from '../api/model.js';
import type { ServiceRoute } from '../core/routes/http-route.js';
import { toWireRouteMatch, type WireRouteMatch } from '../core/routes/route-wire.js';
import { endpointKey } from './endpoints.js';

export interface WireEndpoint {
  address: string;
  port: number;
  weight: number;
  tls_identity: string;
  server_name: string;
  protocol_hint: 'PROTOCOL_UNKNOWN' | 'PROTOCOL_H2' | 'PROTOCOL_OPAQUE';
  inbound_port: number;
  metric_labels: Record<string, string>;
  zone: string;
}

export interface WireEndpointSet {
  endpoints: WireEndpoint[];
  metric_labels: Record<string, string>;
}

export interface WireRoute {
  name: string;
  matches: WireRouteMatch[];
}

export type WireUpdate = { add: WireEndpointSet } | { remove: WireEndpointSet } | { no_endpoints: { exists: boolean } } | { routes: { routes: WireRoute[] } };

export interface WireProfile {
  opaque_protocol: boolean;
  endpoint?: WireEndpoint;
  fully_qualified_name: string;
  /** The Service's cluster IP (service lookups and cluster-IP lookups); empty otherwise. */
  cluster_ip?: string;
}

/** The RouteSet message of a service port's routes. */
export function toWireRoutes(routes: readonly ServiceRoute[]): { routes: { routes: WireRoute[] } } {
  return {
    routes: {
      routes: routes.map((r) => ({
        name: r.name,
        matches: r.matches.map(toWireRouteMatch),
      })),
    },
  };
}

const HINTS: Record<ProtocolHint, WireEndpoint['protocol_hint']> = { unknown: 'PROTOCOL_UNKNOWN', h2: 'PROTOCOL_H2', opaque: 'PROTOCOL_OPAQUE' };

export function toWireEndpoint(e: ResolvedEndpoint): WireEndpoint {
  return {
    address: e.address,
    port: e.port,
    weight: e.weight,
    tls_identity: e.identity ?? '',
    server_name: e.serverName ?? '',
    protocol_hint: HINTS[e.protocolHint],
    inbound_port: e.inboundPort,
    metric_labels: e.labels,
    zone: e.zone ?? '',
  };
}

function sameEndpoint(a: ResolvedEndpoint, b: ResolvedEndpoint): boolean {
  return JSON.stringify(toWireEndpoint(a)) === JSON.stringify(toWireEndpoint(b));
}

/**
 * The updates that take a client from `prev` (undefined = nothing sent yet) to `next`: removals
 * first, then additions (new or changed endpoints, keyed by address:port), then no_endpoints when
 * the set became (or starts) empty. Empty when nothing changed.
 */
export function diffSnapshots(prev: EndpointSnapshot | undefined, next: EndpointSnapshot): WireUpdate[] {
  const labels = next.labels;
  const before = new Map((prev?.endpoints ?? []).map((e) => [endpointKey(e), e]));
  const after = new Map(next.endpoints.map((e) => [endpointKey(e), e]));
  const removed = [...before.entries()].filter(([k]) => !after.has(k)).map(([, e]) => e);
  const added = [...after.entries()].filter(([k, e]) => !before.has(k) || !sameEndpoint(before.get(k)!, e)).map(([, e]) => e);
  const out: WireUpdate[] = [];
  if (removed.length) out.push({ remove: { endpoints: removed.map(toWireEndpoint), metric_labels: labels } });
  if (added.length) out.push({ add: { endpoints: added.map(toWireEndpoint), metric_labels: labels } });
  const becameEmpty = next.endpoints.length === 0 && (prev === undefined || prev.endpoints.length > 0 || prev.exists !== next.exists);
  if (becameEmpty) out.push({ no_endpoints: { exists: next.exists } });
  return out;
}
