// The RouteMatch message of proto/outpost/http_route.proto (pure): encoded by the destination and
// policy services (proto-loader, keepCase), decoded by the proxy (proto-loader, camelCase). Both
// directions carry the same matches, so outbound route naming and inbound authorization agree.
import type { PathMatchType, RouteMatch, ValueMatch } from './http-route.js';

export type WirePathType = 'PATH_PREFIX' | 'PATH_EXACT' | 'PATH_REGULAR_EXPRESSION';

export interface WireValueMatch {
  name: string;
  value: string;
  regex: boolean;
}

/** A RouteMatch as the servers send it (snake_case fields, enum names). */
export interface WireRouteMatch {
  path_type: WirePathType;
  path: string;
  method: string;
  headers: WireValueMatch[];
  query_params: WireValueMatch[];
}

/** A RouteMatch as the proxy's client decodes it (camelCase, enum names or numbers). */
export interface DecodedRouteMatch {
  pathType?: string | number;
  path?: string;
  method?: string;
  headers?: Partial<ValueMatch>[];
  queryParams?: Partial<ValueMatch>[];
}

const TO_WIRE: Record<PathMatchType, WirePathType> = { PathPrefix: 'PATH_PREFIX', Exact: 'PATH_EXACT', RegularExpression: 'PATH_REGULAR_EXPRESSION' };
const FROM_WIRE: Record<string, PathMatchType> = {
  PATH_PREFIX: 'PathPrefix',
  PATH_EXACT: 'Exact',
  PATH_REGULAR_EXPRESSION: 'RegularExpression',
  '0': 'PathPrefix',
  '1': 'Exact',
  '2': 'RegularExpression',
};

export function toWireRouteMatch(m: RouteMatch): WireRouteMatch {
  return { path_type: TO_WIRE[m.pathType], path: m.path, method: m.method, headers: m.headers, query_params: m.queryParams };
}

const toValueMatch = (v: Partial<ValueMatch>): ValueMatch => ({ name: v.name ?? '', value: v.value ?? '', regex: !!v.regex });

/**
 * The matches of a decoded route. A match with a path type from a newer server is dropped: it
 * matches nothing rather than everything (so a route can end with no match at all: it takes no request).
 */
export function fromWireRouteMatches(matches: readonly DecodedRouteMatch[] | undefined): RouteMatch[] {
  return (matches ?? []).flatMap((m) => {
    const pathType = FROM_WIRE[String(m.pathType ?? 'PATH_PREFIX')];
    if (!pathType) return [];
    return [{ pathType, path: m.path ?? '/', method: (m.method ?? '').toUpperCase(), headers: (m.headers ?? []).map(toValueMatch), queryParams: (m.queryParams ?? []).map(toValueMatch) }];
  });
}
