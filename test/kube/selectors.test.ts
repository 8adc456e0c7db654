// The one label-selector matcher: LabelSelector objects (Servers, ServerAuthorizations), Service
// selector maps (EndpointSlices), and the requirements the API server's query-string parser builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabelSelector } from '../../src/apiserver/selectors.js';
import { requirementsMatch, requirementsOf, selectorMatches, serviceSelectorMatches, validateLabelSelector } from '../../src/kube/selectors.js';
import type { LabelSelector } from '../../src/kube/objects.js';

const labels = { app: 'web', tier: 'front', n: '7' };

test('LabelSelector objects: matchLabels and matchExpressions; empty matches all, absent none', () => {
  const cases: [LabelSelector | undefined, boolean][] = [
    [{}, true],
    [undefined, false],
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'web', tier: 'back' } }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }, true],
    [{ matchExpressions: [{ key: 'missing', operator: 'In', values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['web'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, true],
    // An operator Kubernetes does not define selects nothing (deny when in doubt).
    [{ matchExpressions: [{ key: 'app', operator: 'Is', values: ['web'] }] }, false],
  ];
  for (const [sel, expected] of cases) assert.equal(selectorMatches(sel, labels), expected, JSON.stringify(sel));
});

test('Service selector maps: every pair matches; an empty or absent selector selects nothing', () => {
  assert.equal(serviceSelectorMatches({ app: 'web' }, labels), true);
  assert.equal(serviceSelectorMatches({ app: 'web', tier: 'back' }, labels), false);
  assert.equal(serviceSelectorMatches({}, labels), false);
  assert.equal(serviceSelectorMatches(undefined, labels), false);
});

test('the API server parses labelSelector= into the same requirements the objects compile to', () => {
  const fromQuery = parseLabelSelector('app=web,tier in (front,back),!gone').requirements;
  const fromObject = requirementsOf({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }, { key: 'gone', operator: 'DoesNotExist' }] });
  assert.deepEqual(fromQuery, fromObject);
  assert.equal(requirementsMatch(fromQuery, labels), true);
  assert.equal(requirementsMatch(parseLabelSelector('n>5').requirements, labels), true);
  assert.equal(requirementsMatch(parseLabelSelector('n<5').requirements, labels), false);
});

test('an invalid LabelSelector is refused field by field (the schema enum reports unknown operators)', () => {
  const causes = validateLabelSelector(
    {
      matchLabels: { 'bad key': 'ok', good: '-bad-' },
      matchExpressions: [
        { key: 'a', operator: 'In', values: [] },
        { key: 'b', operator: 'Exists', values: ['x'] },
        { key: 'c', operator: 'Equals', values: ['x'] },
        { key: 'd', operator: 'NotIn', values: ['ok', 'not ok'] },
      ],
    },
    'spec.podSelector',
  );
  assert.deepEqual(
    causes.map((c) => `${c.field} ${c.reason}`),
    [
      'spec.podSelector.matchLabels FieldValueInvalid',
      'spec.podSelector.matchLabels FieldValueInvalid',
      'spec.podSelector.matchExpressions[0].values FieldValueRequired',
      'spec.podSelector.matchExpressions[1].values FieldValueInvalid',
      'spec.podSelector.matchExpressions[3].values[1] FieldValueInvalid',
    ],
  );
  assert.match(causes[0].message, /Invalid value: "bad key"/);
  assert.deepEqual(validateLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, 'spec.podSelector'), []);
});
