// Label and field selectors as Kubernetes parses them (labelSelector=/fieldSelector= query strings,
// and LabelSelector objects with matchLabels/matchExpressions), compiled to plain matchers.
import type { KubeObject } from '../store/types.js';
import type { FieldCause } from './resources/types.js';

/** A selector that does not parse or validate; the HTTP layer answers 400 BadRequest (or 422 in a spec). */
export class SelectorError extends Error {
  readonly reason = 'BadRequest' as const;
  constructor(
    /** 'labelSelector', 'fieldSelector', or the field path of a LabelSelector object. */
    readonly field: string,
    message: string,
    readonly causes: FieldCause[] = [],
  ) {
    super(message);
    this.name = 'SelectorError';
  }
}

export type LabelOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals' | 'GreaterThan' | 'LessThan';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export interface LabelSelector {
  requirements: LabelRequirement[];
  /** True when the selector selects everything. */
  empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
}

// Kubernetes' regexes (apimachinery validation): qualified names, DNS-1123 subdomains, label values.
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Problems with a label key (empty list = valid), with Kubernetes' wording. */
export function labelKeyErrors(key: string): string[] {
  const errs: string[] = [];
  const slash = key.indexOf('/');
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
  if (prefix !== undefined) {
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
    else if (!DNS1123_SUBDOMAIN.test(prefix)) {
      errs.push(`prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
    }
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  else if (!NAME_PART.test(name)) {
    errs.push(`name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc')`);
  }
  return errs;
}

/** Problems with a label value (empty list = valid). */
export function labelValueErrors(value: string): string[] {
  if (value.length > 63) return ['must be no more than 63 characters'];
  if (!LABEL_VALUE.test(value)) {
    return [`a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345')`];
  }
  return [];
}

function matchRequirement(r: LabelRequirement, labels: Record<string, string> | undefined): boolean {
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
  }
}

function compile(requirements: LabelRequirement[]): LabelSelector {
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((r) => matchRequirement(r, labels)),
  };
}

/** Validates one requirement as NewRequirement does; returns messages (empty = valid). */
function requirementErrors(r: LabelRequirement): string[] {
  const errs = labelKeyErrors(r.key).map((m) => `key: Invalid value: "${r.key}": ${m}`);
  const n = r.values.length;
  if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) {
    errs.push(`values: Required value: for 'in', 'notin' operators, values set can't be empty`);
  }
  if ((r.operator === 'Equals' || r.operator === 'NotEquals') && n !== 1) {
    errs.push(`values: Invalid value: exact-match compatibility requires one single value`);
  }
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n !== 0) {
    errs.push(`values: Forbidden: values set must be empty for exists and does not exist`);
  }
  if (r.operator === 'GreaterThan' || r.operator === 'LessThan') {
    if (n !== 1 || !/^-?\d+$/.test(r.values[0])) errs.push(`values: Invalid value: for 'Gt', 'Lt' operators, the value must be an integer`);
  } else {
    r.values.forEach((v, i) => errs.push(...labelValueErrors(v).map((m) => `values[${i}][${r.key}]: Invalid value: "${v}": ${m}`)));
  }
  return errs;
}

// ---- labelSelector query strings -------------------------------------------------------------

type Token = { kind: 'id'; text: string } | { kind: 'op'; text: string } | { kind: 'end' };
const SPECIAL = '=!(),<>';

function lex(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    const two = input.slice(i, i + 2);
    if (/\s/.test(c)) {
      i++;
    } else if (two === '==' || two === '!=') {
      out.push({ kind: 'op', text: two });
      i += 2;
    } else if (SPECIAL.includes(c)) {
      out.push({ kind: 'op', text: c });
      i++;
    } else {
      let j = i;
      while (j < input.length && !SPECIAL.includes(input[j]) && !/\s/.test(input[j])) j++;
      out.push({ kind: 'id', text: input.slice(i, j) });
      i = j;
    }
  }
  out.push({ kind: 'end' });
  return out;
}

const describe = (t: Token) => (t.kind === 'end' ? 'end of string' : `'${t.text}'`);

/** Parses `a=b,c!=d,e,!f,g in (h,i),j notin (k)` (also `==`, `>`, `<`). Throws SelectorError. */
export function parseLabelSelector(input: string | undefined): LabelSelector {
  if (input === undefined || input.trim() === '') return compile([]);
  const tokens = lex(input);
  let pos = 0;
  const fail = (msg: string): never => {
    throw new SelectorError('labelSelector', `unable to parse requirement: ${msg}`);
  };
  const next = () => tokens[pos++];
  const peek = () => tokens[pos];
  const requirements: LabelRequirement[] = [];
  while (true) {
    let t = next();
    let negated = false;
    if (t.kind === 'op' && t.text === '!') {
      negated = true;
      t = next();
    }
    if (t.kind !== 'id') fail(`found ${describe(t)}, expected: !, identifier`);
    const key = (t as { text: string }).text;
    let req: LabelRequirement;
    const after = peek();
    if (negated || after.kind === 'end' || (after.kind === 'op' && after.text === ',')) {
      req = { key, operator: negated ? 'DoesNotExist' : 'Exists', values: [] };
    } else {
      const op = next();
      const opText = op.kind === 'end' ? '' : op.text;
      if (opText === 'in' || opText === 'notin') {
        const open = next();
        if (open.kind !== 'op' || open.text !== '(') fail(`found ${describe(open)}, expected: '('`);
        const values: string[] = [];
        let expectValue = true;
        while (true) {
          const v = next();
          if (v.kind === 'op' && v.text === ')') {
            if (expectValue && values.length > 0) values.push('');
            break;
          }
          if (v.kind === 'op' && v.text === ',') {
            if (expectValue) values.push('');
            expectValue = true;
          } else if (v.kind === 'id' && expectValue) {
            values.push(v.text);
            expectValue = false;
          } else fail(`found ${describe(v)}, expected: ',', ')' or identifier`);
        }
        req = { key, operator: opText === 'in' ? 'In' : 'NotIn', values: [...new Set(values)] };
      } else if (op.kind === 'op' && ['=', '==', '!=', '>', '<'].includes(opText)) {
        const v = peek();
        let value = '';
        if (v.kind === 'id') {
          next();
          value = v.text;
        } else if (!(v.kind === 'end' || (v.kind === 'op' && v.text === ','))) fail(`found ${describe(v)}, expected: identifier`);
        const operator: LabelOperator = opText === '!=' ? 'NotEquals' : opText === '>' ? 'GreaterThan' : opText === '<' ? 'LessThan' : 'Equals';
        req = { key, operator, values: [value] };
      } else {
        fail(`found ${describe(op)}, expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    const errs = requirementErrors(req!);
    if (errs.length > 0) fail(errs.join('; '));
    requirements.push(req!);
    const sep = next();
    if (sep.kind === 'end') break;
    if (sep.kind !== 'op' || sep.text !== ',') fail(`found ${describe(sep)}, expected: ',' or 'end of string'`);
  }
  return compile(requirements);
}

// ---- LabelSelector objects (matchLabels / matchExpressions) ----------------------------------

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Validates a LabelSelector object; causes name each bad field under `fieldPath`. */
export function validateLabelSelectorObject(sel: LabelSelectorObject | undefined, fieldPath: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const bad = (field: string, reason: string, message: string) => causes.push({ reason, field, message });
  if (sel === undefined || sel === null) return causes;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    for (const m of labelKeyErrors(k)) bad(`${fieldPath}.matchLabels`, 'FieldValueInvalid', `Invalid value: "${k}": ${m}`);
    if (typeof v !== 'string') bad(`${fieldPath}.matchLabels`, 'FieldValueInvalid', `Invalid value: ${JSON.stringify(v)}: must be a string`);
    else for (const m of labelValueErrors(v)) bad(`${fieldPath}.matchLabels`, 'FieldValueInvalid', `Invalid value: "${v}": ${m}`);
  }
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const p = `${fieldPath}.matchExpressions[${i}]`;
    for (const m of labelKeyErrors(e.key ?? '')) bad(`${p}.key`, 'FieldValueInvalid', `Invalid value: "${e.key ?? ''}": ${m}`);
    const values = e.values ?? [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) bad(`${p}.values`, 'FieldValueRequired', `Required value: must be specified when \`operator\` is 'In' or 'NotIn'`);
      values.forEach((v, j) => {
        for (const m of labelValueErrors(String(v))) bad(`${p}.values[${j}]`, 'FieldValueInvalid', `Invalid value: "${v}": ${m}`);
      });
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) bad(`${p}.values`, 'FieldValueForbidden', `Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`);
    } else {
      bad(`${p}.operator`, 'FieldValueNotSupported', `Unsupported value: "${e.operator}": supported values: "In", "NotIn", "Exists", "DoesNotExist"`);
    }
  });
  return causes;
}

/** Compiles a LabelSelector object ({} selects everything). Throws SelectorError listing the causes. */
export function labelSelectorFromObject(sel: LabelSelectorObject | undefined, fieldPath = 'selector'): LabelSelector {
  const causes = validateLabelSelectorObject(sel, fieldPath);
  if (causes.length > 0) throw new SelectorError(fieldPath, causes.map((c) => `${c.field}: ${c.message}`).join(', '), causes);
  const reqs: LabelRequirement[] = Object.entries(sel?.matchLabels ?? {}).map(([key, v]) => ({ key, operator: 'Equals', values: [v] }));
  for (const e of sel?.matchExpressions ?? []) {
    reqs.push({ key: e.key, operator: e.operator as LabelOperator, values: [...(e.values ?? [])] });
  }
  return compile(reqs);
}

/** A Service-style `selector: {k: v}` map; every pair must match. */
export function labelSelectorFromMap(map: Record<string, string> | undefined): LabelSelector {
  return labelSelectorFromObject({ matchLabels: map ?? {} });
}

// ---- fieldSelector query strings ---------------------------------------------------------------

/** Reads a field's value from an object; '' when absent, as Kubernetes field sets do. */
export type FieldGetter = (obj: KubeObject) => string | undefined;

export const DEFAULT_FIELDS: Record<string, FieldGetter> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace,
};

const nested = (path: string): FieldGetter => (o) => {
  let v: unknown = o;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v === undefined || v === null ? undefined : String(v);
};

/** Extra fields core/v1 Events support (kubectl describe lists events with involvedObject.*). */
export const EVENT_FIELDS: Record<string, FieldGetter> = Object.fromEntries(
  ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
    'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'].map((f) => [f, nested(f)]),
);

const fieldsOf = (...paths: string[]): Record<string, FieldGetter> => Object.fromEntries(paths.map((f) => [f, nested(f)]));

/** The extra selectable fields of core/v1 types, as kube-apiserver's registry declares them. */
export const CORE_FIELDS: Record<string, Record<string, FieldGetter>> = {
  events: EVENT_FIELDS,
  secrets: fieldsOf('type'),
  namespaces: fieldsOf('status.phase'),
  services: fieldsOf('spec.clusterIP', 'spec.type'),
};

export interface FieldRequirement {
  field: string;
  operator: 'Equals' | 'NotEquals';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
  empty: boolean;
  matches(obj: KubeObject): boolean;
}

/** Splits on unescaped `sep`, keeping escapes (`\,` `\=` `\\`) for the next stage. */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) cur += s[i] + s[++i];
    else if (s[i] === sep) {
      parts.push(cur);
      cur = '';
    } else cur += s[i];
  }
  parts.push(cur);
  return parts;
}

function unescapeValue(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

/**
 * Parses `metadata.name=x,metadata.namespace!=y` (also `==`). Only fields in DEFAULT_FIELDS plus
 * `extraFields` are allowed; others fail with "field label not supported: X".
 */
export function parseFieldSelector(input: string | undefined, extraFields: Record<string, FieldGetter> = {}): FieldSelector {
  const fields = { ...DEFAULT_FIELDS, ...extraFields };
  const requirements: FieldRequirement[] = [];
  for (const part of input && input.trim() !== '' ? splitUnescaped(input, ',') : []) {
    const m = /^([^=!]*?)\s*(==|!=|=)\s*(.*)$/s.exec(part.trim());
    if (!m || m[1] === '') throw new SelectorError('fieldSelector', `invalid selector: '${input}'; can't understand '${part}'`);
    const field = m[1];
    if (!Object.prototype.hasOwnProperty.call(fields, field)) {
      throw new SelectorError('fieldSelector', `field label not supported: ${field}`);
    }
    requirements.push({ field, operator: m[2] === '!=' ? 'NotEquals' : 'Equals', value: unescapeValue(m[3]) });
  }
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (obj) =>
      requirements.every((r) => ((fields[r.field](obj) ?? '') === r.value) === (r.operator === 'Equals')),
  };
}

/** One predicate for both query selectors, or undefined when neither restricts anything. */
export function selectorFilter(
  labelSelector: string | undefined,
  fieldSelector: string | undefined,
  extraFields?: Record<string, FieldGetter>,
): ((obj: KubeObject) => boolean) | undefined {
  const labels = parseLabelSelector(labelSelector);
  const fields = parseFieldSelector(fieldSelector, extraFields);
  if (labels.empty && fields.empty) return undefined;
  return (obj) => labels.matches(obj.metadata?.labels) && fields.matches(obj);
}
