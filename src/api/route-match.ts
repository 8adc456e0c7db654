// The RouteMatch message of proto/outpost/http_route.proto <-> the route model of core/routes (pure):
// encoded by the destination and policy services, decoded by the proxy. Both directions carry the
// same matches, so outbound route naming and inbound authorization agree.
import type { PathMatchType, RouteMatch, ValueMatch } from '../core/routes/http-route.js';
import type { PathMatchType as WirePathType, RouteMatch as WireRouteMatch, RouteMatch__Output, ValueMatch__Output } from './gen/http-route.js';

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
  return { pathType: TO_WIRE[m.pathType], path: m.path, method: m.method, headers: m.headers, queryParams: m.queryParams };
}

const toValueMatch = (v: ValueMatch__Output): ValueMatch => ({ name: v.name ?? '', value: v.value ?? '', regex: !!v.regex });

/**
 * The matches of a decoded route. A match with a path type from a newer server is dropped: it
 * matches nothing rather than everything (so a route can end with no match at all: it takes no request).
 */
export function fromWireRouteMatches(matches: readonly RouteMatch__Output[] | undefined): RouteMatch[] {
  return (matches ?? []).flatMap((m) => {
    const pathType = FROM_WIRE[String(m.pathType ?? 'PATH_PREFIX')];
    if (!pathType) return [];
    return [{ pathType, path: m.path ?? '/', method: (m.method ?? '').toUpperCase(), headers: (m.headers ?? []).map(toValueMatch), queryParams: (m.queryParams ?? []).map(toValueMatch) }];
  });
}
