// JSON patch (RFC 6902): the appendix A examples, pointer escaping, and error kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, formatPointer, parsePointer, PatchError } from '../../src/apiserver/patch/index.js';
import { deepFreeze } from '../../src/store/keys.js';

test('RFC 6902 appendix A examples that succeed', () => {
  const cases: [unknown, unknown[], unknown][] = [
    [{ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
    [{ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    [{ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    [{ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    [{ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    [
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    [{ foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
    [
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    [{ foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
    [{ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }], { foo: 'bar', baz: 'qux' }],
    [{ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
    [{ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
    [{ foo: null }, [{ op: 'test', path: '/foo', value: null }], { foo: null }],
    [{ a: { x: 1, y: [1] } }, [{ op: 'test', path: '/a', value: { y: [1], x: 1 } }], { a: { x: 1, y: [1] } }],
    [{ a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }, { op: 'replace', path: '/c/b', value: 2 }], { a: { b: 1 }, c: { b: 2 } }],
    [{ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }], { b: 2 }],
    [{ 'a/b': 1 }, [{ op: 'move', from: '/a~1b', path: '/c~0d' }], { 'c~d': 1 }],
    // kubectl-style label edit on an object with a '/'-containing label key
    [
      { metadata: { labels: { 'kubernetes.io/service-name': 'x' } } },
      [{ op: 'replace', path: '/metadata/labels/kubernetes.io~1service-name', value: 'y' }],
      { metadata: { labels: { 'kubernetes.io/service-name': 'y' } } },
    ],
  ];
  for (const [doc, patch, expected] of cases) {
    assert.deepEqual(applyJsonPatch(deepFreeze(doc), patch), expected, JSON.stringify(patch));
  }
});

test('ops that do not apply are Invalid (422); malformed patches are BadRequest (400)', () => {
  const invalid: [unknown, unknown[], RegExp][] = [
    [{ baz: 'qux' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }], /parent is not a container|missing/],
    [{ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }], /doc is missing path: "\/baz\/bat"/],
    [{ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], /testing value \/baz failed/],
    [{ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }], /testing value/],
    [{ foo: 'bar' }, [{ op: 'remove', path: '/nope' }], /remove operation does not apply/],
    [{ foo: 'bar' }, [{ op: 'replace', path: '/nope', value: 1 }], /replace operation does not apply/],
    [{ foo: [1] }, [{ op: 'add', path: '/foo/5', value: 1 }], /index out of bounds/],
    [{ foo: [1] }, [{ op: 'add', path: '/foo/01', value: 1 }], /index out of bounds/],
    [{ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }], /cannot move a value into one of its children/],
    [{ a: 1 }, [{ op: 'test', path: '/missing', value: 1 }], /doc is missing path/],
  ];
  for (const [doc, patch, pattern] of invalid) {
    assert.throws(() => applyJsonPatch(doc, patch), (e: unknown) => e instanceof PatchError && e.reason === 'Invalid' && e.code === 422 && pattern.test(e.message), JSON.stringify(patch));
  }
  const bad: unknown[] = [{ op: 'add' }, [{ op: 'frobnicate', path: '/a' }], [{ op: 'add', path: '/a' }], [{ op: 'move', path: '/a' }], [{ op: 'add', path: 'a', value: 1 }], ['x']];
  for (const patch of bad) {
    assert.throws(() => applyJsonPatch({}, patch), (e: unknown) => e instanceof PatchError && e.reason === 'BadRequest', JSON.stringify(patch));
  }
});

test('a failed op leaves the input untouched (the patch is all or nothing)', () => {
  const doc = { a: 1, list: [1, 2] };
  assert.throws(() => applyJsonPatch(doc, [{ op: 'replace', path: '/a', value: 2 }, { op: 'remove', path: '/list/0' }, { op: 'test', path: '/a', value: 1 }]));
  assert.deepEqual(doc, { a: 1, list: [1, 2] });
});

test('JSON pointers round-trip with escaping', () => {
  assert.deepEqual(parsePointer('/a~1b/c~0d/~01'), ['a/b', 'c~d', '~1']);
  assert.equal(formatPointer(['a/b', 'c~d', '~1']), '/a~1b/c~0d/~01');
  assert.deepEqual(parsePointer(''), []);
  assert.deepEqual(parsePointer('/'), ['']);
});
