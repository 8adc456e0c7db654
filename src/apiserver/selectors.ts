// Label and field selectors as Kubernetes parses them from labelSelector=/fieldSelector= query
// strings, compiled to requirements matched by the one matcher (kube/selectors.ts).
import type { KubeObject } from '../store/types.js';
import { labelValue, qualifiedName } from '../kube/formats.js';
import { requirementsMatch, type LabelOperator, type LabelRequirement } from '../kube/selectors.js';
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

export interface LabelSelector {
  requirements: LabelRequirement[];
  /** True when the selector selects everything. */
  empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
}

function compile(requirements: LabelRequirement[]): LabelSelector {
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (labels) => requirementsMatch(requirements, labels),
  };
}

/** Validates one requirement as NewRequirement does; returns messages (empty = valid). */
function requirementErrors(r: LabelRequirement): string[] {
  const errs = qualifiedName(r.key).map((m) => `key: Invalid value: "${r.key}": ${m}`);
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
    r.values.forEach((v, i) => errs.push(...labelValue(v).map((m) => `values[${i}][${r.key}]: Invalid value: "${v}": ${m}`)));
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
