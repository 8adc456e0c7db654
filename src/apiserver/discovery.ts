// Discovery documents generated from the registry: aggregated (apidiscovery.k8s.io/v2, what
// kubectl reads from /api and /apis) and legacy (APIVersions, APIGroupList, APIGroup,
// APIResourceList, what client-node reads from /api/v1 and /apis/{g}/{v}).
import type { ResourceType } from './resources/types.js';
import { RESOURCE_TYPES, groupVersions, namedGroups, servedVersion } from './resources/index.js';
import { SERVICE_ACCOUNT_TOKEN_SUBRESOURCE } from './resources/authentication.js';

/** The exact Content-Type kubectl needs to read an aggregated reply (anything else reads as empty). */
export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_DISCOVERY_V2BETA1_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';
const STATUS_VERBS = ['get', 'patch', 'update'];

/** 'v2' or 'v2beta1' when the Accept header asks for aggregated discovery first, else undefined (legacy). */
export function negotiateDiscovery(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const entry of (accept ?? '').split(',')) {
    const [type, ...params] = entry.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim())));
    if (p.as === 'APIGroupDiscoveryList' && p.g === 'apidiscovery.k8s.io' && (p.v === 'v2' || p.v === 'v2beta1')) return p.v;
    if (!p.as && (type === 'application/json' || type === '*/*')) return undefined;
  }
  return undefined;
}

interface DiscoveryKind {
  group: string;
  version: string;
  kind: string;
}

export interface APISubresourceDiscovery {
  subresource: string;
  responseKind: DiscoveryKind;
  verbs: string[];
}

export interface APIResourceDiscovery {
  resource: string;
  singularResource: string;
  scope: 'Namespaced' | 'Cluster';
  responseKind: DiscoveryKind;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

export interface APIGroupDiscovery {
  metadata: { name: string };
  versions: { version: string; freshness: 'Current'; resources: APIResourceDiscovery[] }[];
}

export interface APIGroupDiscoveryList {
  kind: 'APIGroupDiscoveryList';
  apiVersion: string;
  metadata: Record<string, never>;
  items: APIGroupDiscovery[];
}

function subresourcesOf(rt: ResourceType): APISubresourceDiscovery[] {
  const subs: APISubresourceDiscovery[] = [];
  if (rt.statusSubresource) subs.push({ subresource: 'status', responseKind: { group: '', version: '', kind: rt.kind }, verbs: STATUS_VERBS });
  const token = SERVICE_ACCOUNT_TOKEN_SUBRESOURCE;
  if (rt.group === '' && rt.plural === token.resource) {
    subs.push({ subresource: token.subresource, responseKind: { group: token.group, version: token.version, kind: token.kind }, verbs: token.verbs });
  }
  return subs;
}

function resourceDiscovery(rt: ResourceType): APIResourceDiscovery {
  const out: APIResourceDiscovery = {
    resource: rt.plural,
    singularResource: rt.singular,
    scope: rt.namespaced ? 'Namespaced' : 'Cluster',
    responseKind: { group: '', version: '', kind: rt.kind },
    verbs: [...rt.verbs].sort(),
  };
  if (rt.shortNames.length) out.shortNames = rt.shortNames;
  if (rt.categories?.length) out.categories = rt.categories;
  const subs = subresourcesOf(rt);
  if (subs.length) out.subresources = subs;
  return out;
}

function groupDiscovery(group: string, types: ResourceType[]): APIGroupDiscovery {
  return {
    metadata: { name: group },
    versions: groupVersions(group, types).map((version) => ({
      version,
      freshness: 'Current' as const,
      resources: types.filter((t) => t.group === group && servedVersion(t, version)).map(resourceDiscovery),
    })),
  };
}

/** The aggregated document for `/api` (the core group, named "") or `/apis` (every named group). */
export function aggregatedDiscovery(path: '/api' | '/apis', types: ResourceType[] = RESOURCE_TYPES, version: 'v2' | 'v2beta1' = 'v2'): APIGroupDiscoveryList {
  const groups = path === '/api' ? [''] : namedGroups(types);
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items: groups.map((g) => groupDiscovery(g, types)) };
}

/** Legacy `/api`: the core versions and where to reach the server. */
export function apiVersions(serverAddress: string): { kind: 'APIVersions'; versions: string[]; serverAddressByClientCIDRs: { clientCIDR: string; serverAddress: string }[] } {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIGroup {
  kind?: 'APIGroup';
  apiVersion?: 'v1';
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
}

function apiGroupOf(group: string, types: ResourceType[]): APIGroup {
  const versions = groupVersions(group, types).map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

/** Legacy `/apis` (APIGroupList). */
export function apiGroupList(types: ResourceType[] = RESOURCE_TYPES): { kind: 'APIGroupList'; apiVersion: 'v1'; groups: APIGroup[] } {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: namedGroups(types).map((g) => apiGroupOf(g, types)) };
}

/** Legacy `/apis/{group}`, or undefined for an unknown group. */
export function apiGroup(group: string, types: ResourceType[] = RESOURCE_TYPES): APIGroup | undefined {
  if (!group || !types.some((t) => t.group === group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroupOf(group, types) };
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

export interface APIResourceList {
  kind: 'APIResourceList';
  apiVersion: 'v1';
  groupVersion: string;
  resources: APIResource[];
}

/** Legacy `/api/v1` (group '') or `/apis/{group}/{version}`, or undefined when not served. */
export function apiResourceList(group: string, version: string, types: ResourceType[] = RESOURCE_TYPES): APIResourceList | undefined {
  const served = types.filter((t) => t.group === group && servedVersion(t, version));
  if (!served.length) return undefined;
  const resources: APIResource[] = [];
  for (const rt of served) {
    const r: APIResource = { name: rt.plural, singularName: rt.singular, namespaced: rt.namespaced, kind: rt.kind, verbs: [...rt.verbs].sort() };
    if (rt.shortNames.length) r.shortNames = rt.shortNames;
    if (rt.categories?.length) r.categories = rt.categories;
    resources.push(r);
    for (const sub of subresourcesOf(rt)) {
      const entry: APIResource = { name: `${rt.plural}/${sub.subresource}`, singularName: '', namespaced: rt.namespaced, kind: sub.responseKind.kind, verbs: sub.verbs };
      if (sub.responseKind.group) Object.assign(entry, { group: sub.responseKind.group, version: sub.responseKind.version });
      resources.push(entry);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}
