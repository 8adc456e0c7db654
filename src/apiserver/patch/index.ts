// Patch entry points for the HTTP layer: content type -> patch kind, body decoding, and one call
// that applies merge, JSON or strategic patches. Server-side apply is applyPatch (apply.ts).
import { parse as parseYaml } from 'yaml';
import { PatchError } from './errors.js';
import { applyJsonPatch } from './json-patch.js';
import { jsonMergePatch } from './merge.js';
import { strategicMergePatch, type StrategicMergeOptions } from './strategic.js';

export { PatchError, type PatchErrorReason } from './errors.js';
export { jsonMergePatch } from './merge.js';
export { applyJsonPatch, decodeJsonPatch, formatPointer, parsePointer, type JsonPatchOp } from './json-patch.js';
export { strategicMergePatch, type StrategicMergeOptions } from './strategic.js';
export { applyPatch, fieldSetOf, fieldSetToSkeleton } from './apply.js';

export type PatchKind = 'merge' | 'json' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<PatchKind, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** The patch kind of a Content-Type header (parameters ignored), or undefined (answer 415). */
export function patchKindOf(contentType: string | undefined): PatchKind | undefined {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return (Object.keys(PATCH_CONTENT_TYPES) as PatchKind[]).find((k) => PATCH_CONTENT_TYPES[k] === media);
}

/** Decodes a patch body: JSON for every kind, YAML (a superset) for apply. Throws PatchError BadRequest. */
export function decodePatchBody(kind: PatchKind, text: string): unknown {
  try {
    const body: unknown = kind === 'apply' ? parseYaml(text) : JSON.parse(text);
    if (body === undefined || body === null) throw new Error('the patch is empty');
    return body;
  } catch (e) {
    throw new PatchError('BadRequest', `error decoding patch: ${(e as Error).message}`);
  }
}

/** Applies a merge, JSON or strategic patch to a copy of `live`. */
export function patchObject<T = unknown>(kind: Exclude<PatchKind, 'apply'>, live: unknown, patch: unknown, opts: StrategicMergeOptions = {}): T {
  if (kind === 'json') return applyJsonPatch<T>(live, patch);
  if (kind === 'strategic') return strategicMergePatch<T>(live, patch, opts);
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    // RFC 7386 allows a non-object patch (it replaces the document), but an object API cannot take it.
    throw new PatchError('BadRequest', 'a merge patch must be a JSON object');
  }
  return jsonMergePatch<T>(live, patch);
}
