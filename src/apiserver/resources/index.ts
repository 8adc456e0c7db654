// The registry of every resource type the embedded API server serves, and lookups over it
// (by group/version/plural, kind, short name or any alias kubectl accepts).
import type { ResourceType, ResourceVersionDef } from './types.js';
import { CORE_TYPES } from './core.js';
import { serviceType } from './service.js';
import { endpointSliceType } from './endpointslice.js';
import { endpointsType } from './endpoints.js';
import { leaseType } from './coordination.js';
import { tokenReviewType } from './authentication.js';
import { deploymentType } from './apps.js';
import { WORKLOAD_TYPES } from './workload.js';
import { POLICY_TYPES } from './policy.js';
import { httpRouteType } from './httproute.js';

export const RESOURCE_TYPES: ResourceType[] = [
  ...CORE_TYPES.slice(0, 1),
  serviceType,
  ...CORE_TYPES.slice(1),
  endpointsType,
  endpointSliceType,
  leaseType,
  tokenReviewType,
  deploymentType,
  ...WORKLOAD_TYPES,
  ...POLICY_TYPES,
  httpRouteType,
];

/** Named groups in the order discovery lists them (the core group '' is served under /api). */
export const GROUP_ORDER = ['apps', 'authentication.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'workload.linkerd.io', 'policy.linkerd.io'];

/** The served version of `rt` called `version`, if any. */
export function servedVersion(rt: ResourceType, version: string): ResourceVersionDef | undefined {
  return rt.versions.find((v) => v.name === version && v.served);
}

/** The type served at /api(s)/{group}/{version}/…/{plural}. */
export function findResource(group: string, version: string, plural: string, types: ResourceType[] = RESOURCE_TYPES): ResourceType | undefined {
  return types.find((t) => t.group === group && t.plural === plural && servedVersion(t, version));
}

export function findByPlural(group: string, plural: string, types: ResourceType[] = RESOURCE_TYPES): ResourceType | undefined {
  return types.find((t) => t.group === group && t.plural === plural);
}

export function findByKind(group: string, kind: string, types: ResourceType[] = RESOURCE_TYPES): ResourceType | undefined {
  return types.find((t) => t.group === group && t.kind === kind);
}

/** From an object's apiVersion (`policy.linkerd.io/v1beta3`, `v1`) and kind. */
export function findByApiVersionKind(apiVersion: string, kind: string, types: ResourceType[] = RESOURCE_TYPES): ResourceType | undefined {
  const { group, version } = parseApiVersion(apiVersion);
  const rt = findByKind(group, kind, types);
  return rt && servedVersion(rt, version) ? rt : undefined;
}

export function findByShortName(shortName: string, types: ResourceType[] = RESOURCE_TYPES): ResourceType | undefined {
  const s = shortName.toLowerCase();
  return types.find((t) => t.shortNames.includes(s));
}

/**
 * Resolves a name the way kubectl does: plural, singular, kind, short name, optionally qualified
 * by group (`externalworkloads.workload.linkerd.io`) or version and group (`servers.v1beta1.policy.linkerd.io`).
 */
export function resolveResourceName(name: string, types: ResourceType[] = RESOURCE_TYPES): ResourceType | undefined {
  const lower = name.toLowerCase();
  const matches = (t: ResourceType, n: string) => t.plural === n || t.singular === n || t.kind.toLowerCase() === n || t.shortNames.includes(n);
  const direct = types.find((t) => matches(t, lower));
  if (direct) return direct;
  const [head, ...rest] = lower.split('.');
  const tail = rest.join('.');
  return types.find((t) => matches(t, head) && (t.group === tail || t.versions.some((v) => `${v.name}.${t.group}` === tail)));
}

export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function preferredVersion(rt: ResourceType): string {
  return (rt.versions.find((v) => v.served) ?? rt.versions[0]).name;
}

/** The versions of a group, preferred first: the order of its types' version lists, merged. */
export function groupVersions(group: string, types: ResourceType[] = RESOURCE_TYPES): string[] {
  const ordered: string[] = [];
  for (const t of types.filter((x) => x.group === group)) {
    for (const v of t.versions) if (v.served && !ordered.includes(v.name)) ordered.push(v.name);
  }
  return ordered.sort((a, b) => versionPriority(b) - versionPriority(a));
}

/** Kubernetes version ordering: GA > beta > alpha, higher numbers first. */
export function versionPriority(v: string): number {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return 0;
  const major = Number(m[1]);
  const stage = m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3;
  return stage * 1_000_000 + major * 1000 + Number(m[3] ?? 0);
}

/** Every named group the registry serves, in discovery order. */
export function namedGroups(types: ResourceType[] = RESOURCE_TYPES): string[] {
  const groups = [...new Set(types.map((t) => t.group).filter((g) => g !== ''))];
  return groups.sort((a, b) => indexOr(GROUP_ORDER, a) - indexOr(GROUP_ORDER, b));
}

function indexOr(list: string[], v: string): number {
  const i = list.indexOf(v);
  return i < 0 ? list.length : i;
}

export type { ResourceType } from './types.js';
