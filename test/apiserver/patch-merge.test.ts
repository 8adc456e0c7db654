// JSON merge patch: the RFC 7386 appendix A table, plus kubectl's label/apply patches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonMergePatch, patchObject, PatchError, patchKindOf, decodePatchBody } from '../../src/apiserver/patch/index.js';
import { deepFreeze } from '../../src/store/keys.js';

test('RFC 7386 appendix A examples', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of cases) {
    assert.deepEqual(jsonMergePatch(target, patch), expected, `${JSON.stringify(target)} + ${JSON.stringify(patch)}`);
  }
});

test('merge patch never modifies its (frozen) inputs and returns a mutable copy', () => {
  const live = deepFreeze({ metadata: { name: 'ew1', labels: { app: 'x' } }, spec: { ports: [{ port: 80 }] } });
  const out = patchObject<{ metadata: { labels: Record<string, string | undefined> }; spec: { ports: { port: number }[] } }>(
    'merge', live, { metadata: { labels: { tier: 'edge', app: null } } },
  );
  assert.deepEqual(out.metadata.labels, { tier: 'edge' });
  out.spec.ports[0].port = 81; // mutable
  assert.equal(live.spec.ports[0].port, 80);
  assert.throws(() => patchObject('merge', live, ['x']), (e: unknown) => e instanceof PatchError && e.code === 400);
});

test('a "__proto__" key is stored as data, not as a prototype', () => {
  const out = jsonMergePatch<Record<string, unknown>>({}, JSON.parse('{"__proto__":{"polluted":true}}'));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.keys(out), ['__proto__']);
});

test('content types map to patch kinds; bodies decode or fail with BadRequest', () => {
  assert.equal(patchKindOf('application/merge-patch+json'), 'merge');
  assert.equal(patchKindOf('application/json-patch+json; charset=utf-8'), 'json');
  assert.equal(patchKindOf('application/strategic-merge-patch+json'), 'strategic');
  assert.equal(patchKindOf('application/apply-patch+yaml'), 'apply');
  assert.equal(patchKindOf('application/json'), undefined);
  assert.equal(patchKindOf(undefined), undefined);
  assert.deepEqual(decodePatchBody('apply', 'metadata:\n  name: x\n'), { metadata: { name: 'x' } });
  assert.deepEqual(decodePatchBody('apply', '{"a":1}'), { a: 1 });
  assert.throws(() => decodePatchBody('merge', '{bad'), (e: unknown) => e instanceof PatchError && e.reason === 'BadRequest' && /error decoding patch/.test(e.message));
  assert.throws(() => decodePatchBody('merge', 'null'), (e: unknown) => e instanceof PatchError && e.reason === 'BadRequest');
});
