// Parses a request path into what it addresses: a fixed endpoint (version, health, discovery,
// OpenAPI) or a resource path (group, version, plural, namespace, name, subresource). Pure.

export type Route =
  | { kind: 'version' }
  | { kind: 'health'; check: 'livez' | 'readyz' | 'healthz' }
  | { kind: 'discoveryRoot'; root: 'api' | 'apis' }
  | { kind: 'discoveryGroup'; group: string }
  | { kind: 'discoveryGroupVersion'; group: string; version: string }
  | { kind: 'openapiV3Index' }
  | { kind: 'openapiV3GroupVersion'; group: string; version: string }
  | { kind: 'openapiV2' }
  | { kind: 'resource'; target: ResourcePath }
  | { kind: 'unknown' };

export interface ResourcePath {
  group: string;
  version: string;
  plural: string;
  /** The namespace in the path (undefined: cluster-scoped resource, or all namespaces). */
  namespace?: string;
  name?: string;
  subresource?: string;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRoute(pathname: string): Route {
  const segs = pathname.split('/').filter((s) => s !== '').map(safeDecode);
  if (segs.some((s) => s === undefined)) return { kind: 'unknown' };
  const s = segs as string[];
  if (s.length === 1 && s[0] === 'version') return { kind: 'version' };
  if (s.length >= 1 && (s[0] === 'livez' || s[0] === 'readyz' || s[0] === 'healthz')) return { kind: 'health', check: s[0] };
  if (s[0] === 'openapi') {
    if (s[1] === 'v2' && s.length === 2) return { kind: 'openapiV2' };
    if (s[1] !== 'v3') return { kind: 'unknown' };
    if (s.length === 2) return { kind: 'openapiV3Index' };
    if (s.length === 4 && s[2] === 'api') return { kind: 'openapiV3GroupVersion', group: '', version: s[3] };
    if (s.length === 5 && s[2] === 'apis') return { kind: 'openapiV3GroupVersion', group: s[3], version: s[4] };
    return { kind: 'unknown' };
  }
  if (s[0] === 'api') {
    if (s.length === 1) return { kind: 'discoveryRoot', root: 'api' };
    if (s.length === 2) return { kind: 'discoveryGroupVersion', group: '', version: s[1] };
    return resourceRoute('', s[1], s.slice(2));
  }
  if (s[0] === 'apis') {
    if (s.length === 1) return { kind: 'discoveryRoot', root: 'apis' };
    if (s.length === 2) return { kind: 'discoveryGroup', group: s[1] };
    if (s.length === 3) return { kind: 'discoveryGroupVersion', group: s[1], version: s[2] };
    return resourceRoute(s[1], s[2], s.slice(3));
  }
  return { kind: 'unknown' };
}

function resourceRoute(group: string, version: string, rest: string[]): Route {
  const target = (t: Omit<ResourcePath, 'group' | 'version'>): Route => ({ kind: 'resource', target: { group, version, ...t } });
  if (rest[0] === 'namespaces' && group === '') {
    // /api/v1/namespaces, /namespaces/N, /namespaces/N/status, /namespaces/NS/{plural}[/N[/sub]]
    if (rest.length === 1) return target({ plural: 'namespaces' });
    if (rest.length === 2) return target({ plural: 'namespaces', name: rest[1] });
    if (rest.length === 3 && NAMESPACE_SUBRESOURCES.has(rest[2])) return target({ plural: 'namespaces', name: rest[1], subresource: rest[2] });
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    if (rest.length > 5) return { kind: 'unknown' };
    return target({ namespace: rest[1], plural: rest[2], name: rest[3], subresource: rest[4] });
  }
  if (rest.length > 3) return { kind: 'unknown' };
  return target({ plural: rest[0], name: rest[1], subresource: rest[2] });
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
