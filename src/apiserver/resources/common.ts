// Helpers shared by the resource descriptors: declareResource (names that follow from the kind),
// standard verbs, cell formatting, and a version converter for kinds whose versions differ only in
// apiVersion.
import type { KubeObject } from '../../store/types.js';
import type { ResourceType, TableColumn } from './types.js';

export const STANDARD_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
export const NONE = '<none>';

type Derived = 'listKind' | 'singular' | 'plural' | 'shortNames' | 'namespaced' | 'statusSubresource' | 'verbs';

/** A resource type as declared: what `declareResource` derives may be given to override it. */
export type ResourceDeclaration = Omit<ResourceType, Derived> & Partial<Pick<ResourceType, Derived>>;

/**
 * A resource type whose names follow from its kind unless declared: listKind <Kind>List, singular
 * <kind> (lower case), plural <kind>s; no short names, namespaced, no status subresource, the
 * standard verbs.
 */
export function declareResource(d: ResourceDeclaration): ResourceType {
  const singular = d.kind.toLowerCase();
  return { listKind: `${d.kind}List`, singular, plural: `${singular}s`, shortNames: [], namespaced: true, statusSubresource: false, verbs: STANDARD_VERBS, ...d };
}

export function col(name: string, extra: Partial<TableColumn> = {}): TableColumn {
  return { name, type: 'string', format: '', description: '', priority: 0, ...extra };
}

/** Reads a dotted path (`spec.meshTLS.identity`) from an object; undefined when absent. */
export function pick(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function specOf(obj: KubeObject): Record<string, unknown> {
  return asRecord(obj.spec);
}

/** `a=b,c=d`, or <none> for an empty map (kubectl's selector format). */
export function formatLabelMap(m: unknown): string {
  const entries = Object.entries(asRecord(m));
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(',') : NONE;
}

/** A metav1.LabelSelector as kubectl prints it: `app=x,tier in (a,b),!gone`. */
export function formatLabelSelector(sel: unknown): string {
  const s = asRecord(sel);
  const parts = Object.entries(asRecord(s.matchLabels)).map(([k, v]) => `${k}=${String(v)}`);
  for (const e of asArray(s.matchExpressions)) {
    const expr = asRecord(e);
    const values = asArray(expr.values).join(',');
    if (expr.operator === 'In') parts.push(`${expr.key} in (${values})`);
    else if (expr.operator === 'NotIn') parts.push(`${expr.key} notin (${values})`);
    else if (expr.operator === 'Exists') parts.push(String(expr.key));
    else if (expr.operator === 'DoesNotExist') parts.push(`!${expr.key}`);
  }
  return parts.length ? parts.join(',') : NONE;
}

/** The status of condition `type` in status.conditions, or `fallback`. */
export function conditionStatus(obj: KubeObject, type: string, fallback = 'Unknown'): string {
  const cond = asArray(asRecord(obj.status).conditions).map(asRecord).find((c) => c.type === type);
  return typeof cond?.status === 'string' ? cond.status : fallback;
}

/** A converter for kinds whose served versions share one shape (Linkerd's `None` conversion strategy). */
export function relabelVersion(group: string) {
  return (obj: KubeObject, toVersion: string): KubeObject => ({ ...obj, apiVersion: `${group}/${toVersion}` });
}
