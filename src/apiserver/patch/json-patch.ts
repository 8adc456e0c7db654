// JSON patch (RFC 6902) with JSON pointers (RFC 6901): add, remove, replace, move, copy, test.
// Used for application/json-patch+json. A malformed patch is BadRequest; an op that does not apply is Invalid (422).
import { PatchError } from './errors.js';
import { deepCopy, getOwn, isPlainObject, jsonEqual, setOwn, type JsonObject } from './json.js';

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** Splits a JSON pointer into unescaped reference tokens ('' = the whole document). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError('BadRequest', `JSON pointer must be empty or start with '/': "${pointer}"`, pointer);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Builds a pointer from tokens, escaping '~' and '/'. */
export function formatPointer(tokens: string[]): string {
  return tokens.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Checks the shape of a decoded JSON patch body (an array of operation objects). */
export function decodeJsonPatch(body: unknown): JsonPatchOp[] {
  if (!Array.isArray(body)) throw new PatchError('BadRequest', 'a JSON patch must be an array of operations');
  return body.map((op, i) => {
    if (!isPlainObject(op)) throw new PatchError('BadRequest', `operation ${i} is not an object`);
    if (typeof op.op !== 'string' || !OPS.has(op.op)) throw new PatchError('BadRequest', `operation ${i}: unexpected kind: ${String(op.op)}`);
    if (typeof op.path !== 'string') throw new PatchError('BadRequest', `operation ${i} (${op.op}): missing "path"`);
    if ((op.op === 'move' || op.op === 'copy') && typeof op.from !== 'string') {
      throw new PatchError('BadRequest', `operation ${i} (${op.op}): missing "from"`);
    }
    if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !('value' in op)) {
      throw new PatchError('BadRequest', `operation ${i} (${op.op}): missing "value"`);
    }
    parsePointer(op.path);
    if (typeof op.from === 'string') parsePointer(op.from);
    return op as unknown as JsonPatchOp;
  });
}

/** Applies a JSON patch (already-decoded body) to a copy of `doc`; `doc` is not modified. */
export function applyJsonPatch<T = unknown>(doc: unknown, body: unknown): T {
  const ops = decodeJsonPatch(body);
  const root = { doc: deepCopy(doc) as unknown };
  for (const op of ops) applyOp(root, op);
  return root.doc as T;
}

type Container = JsonObject | unknown[];
interface Location {
  parent: Container;
  token: string;
}

function fail(op: JsonPatchOp, message: string, path = op.path): never {
  throw new PatchError('Invalid', `${op.op} operation does not apply: ${message}: "${path}"`, path);
}

/** Resolves the parent container of `pointer`; the wrapper object holds the document under 'doc'. */
function locate(root: { doc: unknown }, pointer: string, op: JsonPatchOp): Location {
  const tokens = ['doc', ...parsePointer(pointer)];
  let parent: unknown = root;
  for (let i = 0; i < tokens.length - 1; i++) {
    const child = readChild(parent, tokens[i]);
    if (child === undefined) fail(op, 'doc is missing path', pointer);
    parent = child;
  }
  if (!Array.isArray(parent) && !isPlainObject(parent)) fail(op, 'parent is not a container', pointer);
  return { parent: parent as Container, token: tokens[tokens.length - 1] };
}

function arrayIndex(token: string, length: number, allowEnd: boolean): number | undefined {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const i = Number(token);
  return i < length || (allowEnd && i === length) ? i : undefined;
}

function readChild(container: unknown, token: string): unknown {
  if (Array.isArray(container)) {
    const i = arrayIndex(token, container.length, false);
    return i === undefined ? undefined : container[i];
  }
  return isPlainObject(container) ? getOwn(container, token) : undefined;
}

function get(root: { doc: unknown }, pointer: string, op: JsonPatchOp): unknown {
  const { parent, token } = locate(root, pointer, op);
  const value = readChild(parent, token);
  if (value === undefined) fail(op, 'doc is missing path', pointer);
  return value;
}

function add(root: { doc: unknown }, pointer: string, value: unknown, op: JsonPatchOp): void {
  const { parent, token } = locate(root, pointer, op);
  if (Array.isArray(parent)) {
    const i = arrayIndex(token, parent.length, true);
    if (i === undefined) fail(op, 'index out of bounds', pointer);
    parent.splice(i, 0, value);
  } else setOwn(parent, token, value);
}

function remove(root: { doc: unknown }, pointer: string, op: JsonPatchOp): unknown {
  const { parent, token } = locate(root, pointer, op);
  const value = readChild(parent, token);
  if (value === undefined) fail(op, 'doc is missing path', pointer);
  if (Array.isArray(parent)) parent.splice(Number(token), 1);
  else delete parent[token];
  return value;
}

function applyOp(root: { doc: unknown }, op: JsonPatchOp): void {
  switch (op.op) {
    case 'add':
      return add(root, op.path, deepCopy(op.value), op);
    case 'remove':
      if (op.path === '') fail(op, 'cannot remove the whole document');
      remove(root, op.path, op);
      return;
    case 'replace': {
      if (op.path === '') {
        root.doc = deepCopy(op.value);
        return;
      }
      const { parent, token } = locate(root, op.path, op);
      if (readChild(parent, token) === undefined) fail(op, 'doc is missing key');
      if (Array.isArray(parent)) parent[Number(token)] = deepCopy(op.value);
      else setOwn(parent, token, deepCopy(op.value));
      return;
    }
    case 'move': {
      const from = op.from as string;
      if (from === op.path) {
        get(root, from, op);
        return;
      }
      if (op.path.startsWith(from + '/')) fail(op, 'cannot move a value into one of its children', from);
      add(root, op.path, remove(root, from, op), op);
      return;
    }
    case 'copy':
      return add(root, op.path, deepCopy(get(root, op.from as string, op)), op);
    case 'test': {
      const actual = get(root, op.path, op);
      if (!jsonEqual(actual, op.value)) {
        throw new PatchError('Invalid', `testing value ${op.path} failed: test operation failed`, op.path);
      }
      return;
    }
  }
}
