// The one label-selector matcher of Outpost: requirements (key, operator, values) as Kubernetes
// evaluates them, built from a LabelSelector object (matchLabels / matchExpressions) or a Service's
// selector map. The API server's query-string parser (apiserver/selectors.ts) compiles to the same
// requirements. Pure.
import type { LabelSelector } from './objects.js';

export type LabelOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals' | 'GreaterThan' | 'LessThan';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** Does one requirement hold for these labels? An operator Kubernetes does not define holds for none. */
export function requirementMatches(r: LabelRequirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Equals':
    case 'In':
      return has && r.values.includes(value as string);
    case 'NotEquals':
    case 'NotIn':
      return !has || !r.values.includes(value as string);
    case 'GreaterThan':
    case 'LessThan': {
      if (!has || !/^-?\d+$/.test(value as string)) return false;
      const n = Number(value);
      return r.operator === 'GreaterThan' ? n > Number(r.values[0]) : n < Number(r.values[0]);
    }
    default:
      return false; // deny when in doubt
  }
}

/** Every requirement holds (none: everything matches). */
export function requirementsMatch(requirements: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  return requirements.every((r) => requirementMatches(r, labels));
}

/** The requirements of a LabelSelector object: matchLabels as Equals, matchExpressions as written (In, NotIn, Exists, DoesNotExist). */
export function requirementsOf(selector: LabelSelector): LabelRequirement[] {
  const out: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, v]) => ({ key, operator: 'Equals', values: [v] }));
  for (const e of selector.matchExpressions ?? []) out.push({ key: e.key, operator: e.operator as LabelOperator, values: [...(e.values ?? [])] });
  return out;
}

/** A LabelSelector object, with Kubernetes semantics: an empty selector matches everything, an absent one nothing. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  return selector !== undefined && selector !== null && requirementsMatch(requirementsOf(selector), labels);
}

/** A Service's `selector: {k: v}` map: every pair must match; an absent or empty map selects nothing (as for a Service). */
export function serviceSelectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && selectorMatches({ matchLabels: selector }, labels);
}
