// Table tests for label selector query strings and field selectors (LabelSelector objects: test/kube/selectors.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EVENT_FIELDS,
  SelectorError,
  parseFieldSelector,
  parseLabelSelector,
  selectorFilter,
} from '../../src/apiserver/selectors.js';
import type { KubeObject } from '../../src/store/types.js';

const labels = { app: 'web', tier: 'front', 'kubernetes.io/service-name': 'payments', n: '7' };

test('label selector strings match like Kubernetes', () => {
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app = web', true],
    ['app=api', false],
    ['app!=api', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app in (web,api)', true],
    ['app in (api)', false],
    ['missing in (a)', false],
    ['app notin (api, db)', true],
    ['app notin (web)', false],
    ['missing notin (web)', true],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['app=web, !missing, tier in (front)', true],
    ['kubernetes.io/service-name=payments', true],
    ['empty=', false],
    ['n>5', true],
    ['n<5', false],
    ['app>5', false],
  ];
  for (const [sel, expected] of cases) {
    assert.equal(parseLabelSelector(sel).matches(labels), expected, sel);
  }
  assert.equal(parseLabelSelector('empty=').matches({ empty: '' }), true);
  assert.equal(parseLabelSelector('app').matches(undefined), false);
  assert.equal(parseLabelSelector('!app').matches(undefined), true);
  assert.equal(parseLabelSelector('').empty, true);
});

test('label selector strings parse into requirements', () => {
  assert.deepEqual(parseLabelSelector('a in (x, y, x), !b, c==d').requirements, [
    { key: 'a', operator: 'In', values: ['x', 'y'] },
    { key: 'b', operator: 'DoesNotExist', values: [] },
    { key: 'c', operator: 'Equals', values: ['d'] },
  ]);
});

test('bad label selectors fail with a clear message', () => {
  const cases: [string, RegExp][] = [
    ['app=', /^$/], // valid: empty value
    ['a in ()', /values set can't be empty/],
    ['a in x', /expected: '\('/],
    ['a in (x', /expected: ',', '\)' or identifier/],
    ['=x', /found '=', expected: !, identifier/],
    ['a=b=c', /found '=', expected: ',' or 'end of string'/],
    ['a b', /found 'b', expected: in, notin/],
    ['!a=b', /found '=', expected/],
    ['bad key!=x', /found 'key'/],
    ['-bad=x', /key: Invalid value: "-bad": name part must consist of alphanumeric/],
    ['a=bad value', /found 'value'/],
    ['a=-x', /values\[0\]\[a\]: Invalid value: "-x": a valid label must be/],
    ['Example.com/a=b', /prefix part a lowercase RFC 1123 subdomain/],
    [`a=${'x'.repeat(64)}`, /must be no more than 63 characters/],
    ['a,', /found end of string, expected: !, identifier/],
    ['a>x', /must be an integer/],
  ];
  for (const [sel, pattern] of cases) {
    if (pattern.source === '^$') {
      assert.doesNotThrow(() => parseLabelSelector(sel), sel);
      continue;
    }
    assert.throws(
      () => parseLabelSelector(sel),
      (e: unknown) => e instanceof SelectorError && e.field === 'labelSelector' && pattern.test(e.message) && e.message.startsWith('unable to parse requirement: '),
      sel,
    );
  }
});

const pod = (name: string, namespace?: string): KubeObject => ({ metadata: { name, ...(namespace ? { namespace } : {}) } });

test('field selectors on metadata.name and metadata.namespace', () => {
  const cases: [string, KubeObject, boolean][] = [
    ['', pod('a', 'ns'), true],
    ['metadata.name=a', pod('a', 'ns'), true],
    ['metadata.name==a', pod('a', 'ns'), true],
    ['metadata.name=b', pod('a', 'ns'), false],
    ['metadata.name!=b', pod('a', 'ns'), true],
    ['metadata.namespace=ns', pod('a', 'ns'), true],
    ['metadata.namespace=ns,metadata.name!=a', pod('a', 'ns'), false],
    ['metadata.namespace=', pod('cluster-scoped'), true],
    ['metadata.namespace!=ns', pod('cluster-scoped'), true],
    ['metadata.name=a\\,b', pod('a,b'), true],
  ];
  for (const [sel, obj, expected] of cases) assert.equal(parseFieldSelector(sel).matches(obj), expected, sel);
  assert.deepEqual(parseFieldSelector('metadata.name=x').requirements, [{ field: 'metadata.name', operator: 'Equals', value: 'x' }]);
});

test('field selectors: unsupported fields and malformed input are errors; callers add fields', () => {
  assert.throws(() => parseFieldSelector('spec.foo=x'), (e: unknown) => e instanceof SelectorError && e.message === 'field label not supported: spec.foo');
  assert.throws(() => parseFieldSelector('metadata.name'), /invalid selector: 'metadata.name'; can't understand 'metadata.name'/);
  assert.throws(() => parseFieldSelector('=x'), /can't understand/);
  const event: KubeObject = { metadata: { name: 'e1', namespace: 'ns' }, involvedObject: { kind: 'ExternalWorkload', name: 'vm-1', namespace: 'ns' }, type: 'Normal' };
  const sel = parseFieldSelector('involvedObject.name=vm-1,involvedObject.kind=ExternalWorkload,involvedObject.uid=', EVENT_FIELDS);
  assert.equal(sel.matches(event), true);
  assert.equal(parseFieldSelector('type!=Normal', EVENT_FIELDS).matches(event), false);
  const custom = parseFieldSelector('spec.nodeName=n1', { 'spec.nodeName': (o) => (o.spec as { nodeName?: string } | undefined)?.nodeName });
  assert.equal(custom.matches({ metadata: { name: 'p' }, spec: { nodeName: 'n1' } }), true);
});

test('selectorFilter combines both and is undefined when nothing is selected', () => {
  assert.equal(selectorFilter(undefined, ''), undefined);
  const f = selectorFilter('app=web', 'metadata.name=a');
  assert.ok(f);
  assert.equal(f({ metadata: { name: 'a', labels: { app: 'web' } } }), true);
  assert.equal(f({ metadata: { name: 'b', labels: { app: 'web' } } }), false);
  assert.equal(f({ metadata: { name: 'a' } }), false);
});
