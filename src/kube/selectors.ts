// The one label-selector matcher and validator of Outpost: requirements (key, operator, values) as
// Kubernetes evaluates them, built from a LabelSelector object (matchLabels / matchExpressions) or a
// Service's selector map; the API server's query-string parser (apiserver/selectors.ts) compiles to
// the same requirements. Validation gives 422 causes with full field paths. Pure.
import { child, index, invalid, required, type FieldCause } from './field-errors.js';
import { labelValue, qualifiedName } from './formats.js';
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

// ---- validation ------------------------------------------------------------------------------

/** Label keys (qualified names) and values. */
export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldCause[] {
  const out: FieldCause[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const e of qualifiedName(k)) out.push(invalid(path, k, e));
    if (typeof v === 'string') for (const e of labelValue(v)) out.push(invalid(path, v, e));
  }
  return out;
}

interface LabelSelectorLike {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key?: string; operator?: string; values?: string[] }[];
}

/** A metav1.LabelSelector: valid keys and values; In/NotIn need values, Exists/DoesNotExist must have none. */
export function validateLabelSelector(sel: LabelSelectorLike | undefined, path: string): FieldCause[] {
  if (!sel || typeof sel !== 'object') return [];
  const out = validateLabels(sel.matchLabels, child(path, 'matchLabels'));
  (sel.matchExpressions ?? []).forEach((expr, i) => {
    const p = index(child(path, 'matchExpressions'), i);
    if (typeof expr.key === 'string') for (const e of qualifiedName(expr.key)) out.push(invalid(child(p, 'key'), expr.key, e));
    const values = expr.values ?? [];
    if (expr.operator === 'In' || expr.operator === 'NotIn') {
      if (values.length === 0) out.push(required(child(p, 'values'), 'must be specified when `operator` is \'In\' or \'NotIn\''));
    } else if (expr.operator === 'Exists' || expr.operator === 'DoesNotExist') {
      if (values.length > 0) out.push(invalid(child(p, 'values'), values, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } // other operators: the schema's enum reports them
    values.forEach((v, j) => {
      if (typeof v === 'string') for (const e of labelValue(v)) out.push(invalid(index(child(p, 'values'), j), v, e));
    });
  });
  return out;
}
