// JSON merge patch (RFC 7386): objects merge recursively, null deletes a key, everything else
// (arrays included) replaces. Used for application/merge-patch+json.
import { PatchError } from './errors.js';
import { deepCopy, getOwn, isPlainObject, setOwn } from './json.js';

/** Returns a new document; neither input is modified (both may be frozen). */
export function jsonMergePatch<T = unknown>(target: unknown, patch: unknown): T {
  if (patch === undefined) throw new PatchError('BadRequest', 'the merge patch is empty');
  return mergeInto(deepCopy(target), patch) as T;
}

function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return deepCopy(patch);
  const result = isPlainObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, mergeInto(getOwn(result, key), value));
  }
  return result;
}
