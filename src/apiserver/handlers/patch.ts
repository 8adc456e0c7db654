// PATCH: merge patch, JSON patch, strategic merge patch (built-in kinds only; 415 for CRD-style
// kinds, as a real server answers) and server-side apply (creates when missing; each
// fieldManager's applied field set is kept in metadata.managedFields so that fields a manager
// stops applying are removed). The patched object then goes through the same admission as PUT.
// Retries on write races unless the patch itself carried a resourceVersion precondition.
import type { KubeObject } from '../../store/types.js';
import { applyPatch, decodePatchBody, fieldSetOf, fieldSetToSkeleton, patchKindOf, patchObject as applyPatchOfKind, PatchError, PATCH_CONTENT_TYPES, type PatchKind } from '../patch/index.js';
import { apiVersionOf, refOf } from '../server/registry.js';
import { applyConflict, badRequest, invalid, notFound, unsupportedMediaType } from '../server/status.js';
import { applyConflicts, fieldSetOfPaths, withoutFields } from '../patch/field-ownership.js';
import { pruneUnknownFields } from '../schema/structural.js';
import { convertTo, fullSchema } from './admission.js';
import { forbidden, required } from '../../kube/field-errors.js';
import type { FieldCause } from '../resources/types.js';
import { clone, deepEqual, storeFailure, timestamp, type ApiContext, type WriteRequest, type WriteResult } from './context.js';
import { createObject, updateObject } from './write.js';
import type { ManagedFieldsEntry } from '../patch/update-ownership.js';

const MAX_ATTEMPTS = 5;

export async function patchObject(ctx: ApiContext, req: WriteRequest, contentType: string, body: Buffer): Promise<WriteResult> {
  const { type } = req.served;
  const kind = patchKindOf(contentType === 'application/apply-patch+json' ? PATCH_CONTENT_TYPES.apply : contentType);
  const accepted = (['json', 'merge', 'apply', ...(type.builtin ? ['strategic'] : [])] as PatchKind[]).map((k) => PATCH_CONTENT_TYPES[k]);
  if (!kind || (kind === 'strategic' && !type.builtin)) throw unsupportedMediaType(contentType, accepted);
  if (kind === 'apply' && !req.fieldManager) throw invalidPatchOptions(required('fieldManager', 'is required for apply patch'));
  if (kind !== 'apply' && req.force) throw invalidPatchOptions(forbidden('force', 'may not be specified for non-apply patch'));
  const patch = guard(req, () => decodePatchBody(kind, body.toString('utf8')));
  if (kind !== 'json' && (patch === null || typeof patch !== 'object' || Array.isArray(patch))) throw badRequest('the patch must be a JSON object');
  const carriesVersion = kind !== 'json' && typeof (patch as KubeObject).metadata?.resourceVersion === 'string';
  if (kind === 'apply') delete (patch as KubeObject).metadata?.managedFields;

  for (let attempt = 1; ; attempt++) {
    const live = ctx.store.get(refOf(type), req.namespace ?? '', req.name!);
    if (!live && kind !== 'apply') throw notFound(type.group, type.plural, req.name!);
    // Apply records its own Apply entry (applyFor), not an Update one.
    if (!live) return createObject(ctx, { ...req, manager: undefined }, applyFor(req, undefined, patch as KubeObject, timestamp(ctx.clock)));
    const current = clone(convertTo(type, live, req.served.version.name)) as KubeObject;
    const patched =
      kind === 'apply'
        ? applyFor(req, current, patch as KubeObject, timestamp(ctx.clock))
        : guard(req, () => applyPatchOfKind<KubeObject>(kind, current, patch, { mergeKeys: type.mergeKeys }));
    if (!patched || typeof patched !== 'object' || Array.isArray(patched)) throw badRequest('the patch must produce a JSON object');
    try {
      return await updateObject(ctx, kind === 'apply' ? { ...req, manager: undefined } : req, live, patched);
    } catch (e) {
      const err = storeFailure(e, req.served, req.name!);
      if (err.reason !== 'Conflict' || carriesVersion || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

/** Server-side apply for one manager: merge, prune what it applied before, record what it applies now. */
function applyFor(req: WriteRequest, current: KubeObject | undefined, applied: KubeObject, now: string): KubeObject {
  const manager = req.fieldManager!;
  const meta = applied.metadata;
  if (meta && typeof meta === 'object' && meta.name !== undefined && meta.name !== req.name) {
    throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${req.name})`);
  }
  let entries = ((current?.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? []).filter((e) => e && typeof e === 'object');
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  const others = entries.filter((e) => e !== mine && typeof e.manager === 'string').map((e) => ({ manager: e.manager!, fieldsV1: e.fieldsV1 }));
  // What the manager owns is what it sets that the schema knows (unknown fields are pruned from the object too).
  const known = clone(applied);
  pruneUnknownFields(known, fullSchema(req.served));
  const fieldsV1 = fieldSetOf(known);
  const conflicts = current ? applyConflicts(current, known, fieldsV1, others) : [];
  if (conflicts.length > 0) {
    if (!req.force) {
      const updaters = new Map(entries.filter((e) => e.operation === 'Update' && e.manager).map((e) => [e.manager!, e.apiVersion]));
      throw applyConflict(conflicts.map((c) => ({ ...c, using: updaters.get(c.manager) })));
    }
    // force=true: the manager takes the fields over; their previous owners no longer hold them.
    const taken = fieldSetOfPaths(conflicts.map((c) => c.path));
    entries = entries.flatMap((e) => {
      if (e === mine || !conflicts.some((c) => c.manager === e.manager)) return [e];
      const left = withoutFields(e.fieldsV1, taken);
      return left ? [{ ...e, fieldsV1: left }] : [];
    });
  }
  // Fields this manager applied before and no longer does are removed, unless another manager owns them too.
  let previous: unknown = mine?.fieldsV1;
  for (const o of others) previous = previous && withoutFields(previous, o.fieldsV1);
  const next = guard(req, () => applyPatch<KubeObject>(current, applied, mine ? fieldSetToSkeleton(previous ?? {}) : undefined));
  next.metadata = { ...(next.metadata ?? {}), name: req.name };
  next.apiVersion ??= apiVersionOf(req.served.type.group, req.served.version.name);
  const apiVersion = apiVersionOf(req.served.type.group, req.served.version.name);
  // An unchanged apply keeps its entry (and time), so re-applying the same config writes nothing.
  const entry: ManagedFieldsEntry =
    mine && mine.apiVersion === apiVersion && deepEqual(mine.fieldsV1, fieldsV1) ? mine : { manager, operation: 'Apply', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1 };
  next.metadata.managedFields = [...entries.filter((e) => e !== mine), entry];
  return next;
}

/** 422 on the query's PatchOptions, as kube-apiserver answers it (kind PatchOptions of meta.k8s.io, no name). */
function invalidPatchOptions(cause: FieldCause) {
  return invalid('PatchOptions', 'meta.k8s.io', '', [cause]);
}

function guard<T>(req: WriteRequest, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof PatchError)) throw e;
    if (e.code === 422) throw invalid(req.served.type.kind, req.served.type.group, req.name ?? '', [{ reason: 'FieldValueInvalid', field: e.field ?? '', message: e.message }]);
    throw badRequest(e.message);
  }
}

