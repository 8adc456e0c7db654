// Create, update (PUT, main resource or status subresource) and delete, with the server-owned
// metadata (uid, creationTimestamp, generation, resourceVersion), finalizers, dryRun and
// optimistic concurrency. Objects are stored in the storage version and answered in the
// requested one.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../../store/types.js';
import type { FieldCause } from '../resources/types.js';
import { apiVersionOf, refOf } from '../server/registry.js';
import { ApiError, badRequest, conflict, invalid, notFound, uidPreconditionFailed } from '../server/status.js';
import { invalid as invalidField } from '../../kube/field-errors.js';
import { applyVersionSchema, convertTo, semanticCauses, toStorage } from './admission.js';
import { recordUpdate, type ManagedFieldsEntry } from '../patch/update-ownership.js';
import { clone, deepEqual, randomSuffix, requireLiveNamespace, specPart, storeFailure, timestamp, type ApiContext, type WriteRequest, type WriteResult } from './context.js';

const MAX_GENERATE_ATTEMPTS = 8;

/** Fills apiVersion/kind from the URL and checks the namespace against the path. */
export function normalizeIdentity(req: WriteRequest, obj: KubeObject): void {
  const { type, version } = req.served;
  const expected = apiVersionOf(type.group, version.name);
  if (!obj.metadata || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) obj.metadata = {};
  if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = expected;
  else if (obj.apiVersion !== expected) throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected})`);
  if (obj.kind === undefined || obj.kind === '') obj.kind = type.kind;
  else if (obj.kind !== type.kind) throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${type.kind})`);
  // apiVersion, kind and metadata first, as kube-apiserver writes objects (client-node omits them).
  const { apiVersion, kind, metadata, ...rest } = obj;
  for (const k of Object.keys(obj)) delete obj[k];
  // Own data properties, never assignments: a "__proto__" key stays a key (pruned later), not a prototype.
  for (const [k, v] of Object.entries({ apiVersion, kind, metadata })) obj[k] = v;
  for (const [k, v] of Object.entries(rest)) Object.defineProperty(obj, k, { value: v, writable: true, enumerable: true, configurable: true });
  if (type.namespaced) {
    const bodyNs = obj.metadata.namespace;
    if (bodyNs !== undefined && bodyNs !== '' && bodyNs !== req.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = req.namespace;
  } else {
    delete obj.metadata.namespace;
  }
}

function throwIfInvalid(req: WriteRequest, obj: KubeObject, schema: FieldCause[], semantic: FieldCause[]): void {
  // The schema and the semantic checks may both flag a field: the schema's word is kept. One check
  // may flag a field more than once (a label key and its value are both `metadata.labels`).
  const flagged = new Set(schema.map((c) => c.field));
  const seen = new Set<string>();
  const causes = [...schema, ...semantic.filter((c) => !flagged.has(c.field))].filter((c) => !seen.has(`${c.field}\n${c.message}`) && !!seen.add(`${c.field}\n${c.message}`));
  if (causes.length === 0) return;
  const name = obj.metadata.name || obj.metadata.generateName || '';
  throw invalid(req.served.type.kind, req.served.type.group, name, causes);
}

export async function createObject(ctx: ApiContext, req: WriteRequest, body: KubeObject): Promise<WriteResult> {
  const { type } = req.served;
  normalizeIdentity(req, body);
  if (type.namespaced) requireLiveNamespace(ctx, req.namespace!, true, { group: type.group, plural: type.plural, name: body.metadata?.name ?? '' });
  const outcome = applyVersionSchema(req.served, body, req.fieldValidation);
  const obj = toStorage(type, body);
  const meta = obj.metadata;
  for (const owned of ['uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']) delete meta[owned];
  meta.creationTimestamp = timestamp(ctx.clock);
  meta.generation = 1;
  meta.uid = randomUUID();
  if (type.statusSubresource) delete obj.status;
  const reserved = type.group === '' && type.plural === 'services' && !req.dryRun ? assignClusterIP(ctx, obj) : undefined;
  try {
    return await createAdmitted(ctx, req, obj, outcome);
  } finally {
    reserved?.release();
  }
}

/** A new Service's cluster IP: the allocator's when none is asked for; one asked for must be in range and free. */
function assignClusterIP(ctx: ApiContext, obj: KubeObject): { release: () => void } | undefined {
  const spec = (obj.spec ??= {}) as Record<string, unknown>;
  const alloc = ctx.serviceIPs;
  if (!alloc || spec.type === 'ExternalName' || spec.clusterIP === 'None') return undefined;
  const asked = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  if (asked) {
    const problem = !alloc.contains(asked) ? `provided IP is not in the valid range. The range of valid IPs is ${alloc.cidr}` : alloc.inUse(asked) ? 'provided IP is already allocated' : undefined;
    if (problem) throw invalid('Service', '', obj.metadata.name ?? '', [invalidField('spec.clusterIP', asked, problem)]);
    return undefined;
  }
  const { ip, release } = alloc.allocate();
  spec.clusterIP = ip;
  spec.clusterIPs = [ip];
  return { release };
}

/** An update that leaves the cluster IP out keeps the allocated one (as Kubernetes does). */
function keepClusterIP(next: KubeObject, live: KubeObject): void {
  const spec = (next.spec ??= {}) as Record<string, unknown>;
  const old = (live.spec ?? {}) as Record<string, unknown>;
  if ((spec.clusterIP === undefined || spec.clusterIP === '') && old.clusterIP && spec.type !== 'ExternalName') {
    spec.clusterIP = old.clusterIP;
    if (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0) spec.clusterIPs = old.clusterIPs;
  }
}

async function createAdmitted(ctx: ApiContext, req: WriteRequest, obj: KubeObject, outcome: ReturnType<typeof applyVersionSchema>): Promise<WriteResult> {
  const { type } = req.served;
  const meta = obj.metadata;
  throwIfInvalid(req, obj, outcome.causes, semanticCauses(type, obj));
  if (req.manager) meta.managedFields = recordUpdate(managedFieldsOf(obj), undefined, obj, updateWrite(ctx, req));
  const generated = !meta.name && !!meta.generateName;
  if (req.dryRun) {
    if (generated) meta.name = meta.generateName + randomSuffix();
    return { code: 201, object: convertTo(type, obj, req.served.version.name), warnings: outcome.warnings };
  }
  for (let attempt = 0; ; attempt++) {
    if (generated) meta.name = meta.generateName + randomSuffix();
    try {
      const stored = await ctx.store.create(refOf(type), obj);
      await ctx.afterCreate?.(stored, req.served);
      return { code: 201, object: convertTo(type, stored, req.served.version.name), warnings: outcome.warnings };
    } catch (e) {
      const err = storeFailure(e, req.served, meta.name ?? '');
      if (!(generated && err.reason === 'AlreadyExists' && attempt < MAX_GENERATE_ATTEMPTS)) throw err;
    }
  }
}

const managedFieldsOf = (o: KubeObject): ManagedFieldsEntry[] => (Array.isArray(o.metadata.managedFields) ? (o.metadata.managedFields as ManagedFieldsEntry[]).filter((e) => e && typeof e === 'object') : []);

const updateWrite = (ctx: ApiContext, req: WriteRequest) => ({
  manager: req.manager!,
  apiVersion: apiVersionOf(req.served.type.group, req.served.version.name),
  subresource: req.subresource === 'status' ? 'status' : undefined,
  now: timestamp(ctx.clock),
});

export function getLive(ctx: ApiContext, req: WriteRequest): KubeObject {
  const { type } = req.served;
  const live = ctx.store.get(refOf(type), req.namespace ?? '', req.name!);
  if (!live) throw notFound(type.group, type.plural, req.name!);
  return live;
}

/**
 * Admits `incoming` (in the requested version) as the new state of `live` (storage version) and
 * writes it: PUT and every patch type end here. Status isolation: the main resource keeps the
 * live status, the status subresource keeps everything but status.
 */
export async function updateObject(ctx: ApiContext, req: WriteRequest, live: KubeObject, incoming: KubeObject): Promise<WriteResult> {
  const { type } = req.served;
  normalizeIdentity(req, incoming);
  if (incoming.metadata.name !== undefined && incoming.metadata.name !== req.name) {
    throw badRequest(`the name of the object (${String(incoming.metadata.name)}) does not match the name on the URL (${req.name})`);
  }
  incoming.metadata.name = req.name;
  const precondition = incoming.metadata.resourceVersion;
  if (precondition !== undefined && precondition !== '' && precondition !== live.metadata.resourceVersion) {
    throw conflict(type.group, type.plural, req.name!);
  }
  // A uid in the body is a precondition too (kube-apiserver's storage checks it): it names the object meant.
  const uid = incoming.metadata.uid;
  if (uid !== undefined && uid !== '' && uid !== live.metadata.uid) {
    throw uidPreconditionFailed(type.group, type.plural, req.name!, String(uid), String(live.metadata.uid ?? ''));
  }
  const outcome = applyVersionSchema(req.served, incoming, req.fieldValidation);
  const proposed = toStorage(type, incoming);
  const isStatus = req.subresource === 'status';
  let next: KubeObject;
  if (isStatus) {
    next = clone(live);
    if (proposed.status === undefined) delete next.status;
    else next.status = proposed.status;
  } else {
    next = proposed;
    if (type.group === '' && type.plural === 'services') keepClusterIP(next, live);
    const meta = next.metadata;
    for (const owned of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (live.metadata[owned] === undefined) delete meta[owned];
      else (meta as Record<string, unknown>)[owned] = live.metadata[owned];
    }
    if (meta.managedFields === undefined && live.metadata.managedFields !== undefined) meta.managedFields = clone(live.metadata.managedFields);
    if (type.statusSubresource) {
      if (live.status === undefined) delete next.status;
      else next.status = clone(live.status);
    }
  }
  next.metadata.resourceVersion = live.metadata.resourceVersion;
  const semantic = semanticCauses(type, next, live);
  if (isStatus && type.validateStatus) semantic.push(...type.validateStatus(next));
  throwIfInvalid(req, next, outcome.causes, semantic);
  if (req.manager) next.metadata.managedFields = recordUpdate(managedFieldsOf(next), live, next, updateWrite(ctx, req));
  if (!deepEqual(specPart(next), specPart(live))) next.metadata.generation = (live.metadata.generation ?? 1) + 1;
  const answer = (o: KubeObject, code = 200): WriteResult => ({ code, object: convertTo(type, o, req.served.version.name), warnings: outcome.warnings });
  const lastFinalizerRemoved = !!live.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0;
  if (!lastFinalizerRemoved && deepEqual(next, live)) return answer(live);
  if (req.dryRun) return answer(next);
  if (lastFinalizerRemoved) {
    if (next.metadata.finalizers) delete next.metadata.finalizers;
    return answer(await removeObject(ctx, req, live));
  }
  try {
    return answer(await ctx.store.update(refOf(type), next, Number(live.metadata.resourceVersion)));
  } catch (e) {
    throw storeFailure(e, req.served, req.name!);
  }
}

/** PUT: an update with the body's resourceVersion as precondition; without one it retries write races. */
export async function replaceObject(ctx: ApiContext, req: WriteRequest, body: KubeObject): Promise<WriteResult> {
  const unconditional = !body.metadata?.resourceVersion;
  for (let attempt = 1; ; attempt++) {
    try {
      return await updateObject(ctx, req, getLive(ctx, req), clone(body));
    } catch (e) {
      const err = storeFailure(e, req.served, req.name!);
      if (err.reason !== 'Conflict' || !unconditional || attempt >= 5) throw err;
    }
  }
}

/** Removes the object from the store for real, then lets garbage collection and namespaces react. */
export async function removeObject(ctx: ApiContext, req: WriteRequest, live: KubeObject, orphanDependents = false): Promise<KubeObject> {
  let deleted: KubeObject;
  try {
    deleted = await ctx.store.delete(refOf(req.served.type), live.metadata.namespace ?? '', live.metadata.name!, Number(live.metadata.resourceVersion));
  } catch (e) {
    throw storeFailure(e, req.served, live.metadata.name!);
  }
  ctx.afterDelete(deleted, req.served, { orphanDependents });
  return deleted;
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  /** Background and Foreground delete dependents (both in the background here); Orphan keeps them. */
  propagationPolicy?: string;
  /** Deprecated form of propagationPolicy: Orphan. */
  orphanDependents?: boolean;
}

/** 409 for a failed delete precondition; kube-apiserver names the kind (not the resource) here. */
function preconditionFailed(kind: string, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${kind} "${name}": ${why}`, { name, kind });
}

/**
 * DELETE: with finalizers the object only gets a deletionTimestamp (it goes away when the last
 * finalizer is removed); otherwise it is removed (`removed`). Answers 200 with the object's last state.
 */
export async function deleteObject(ctx: ApiContext, req: WriteRequest, options: DeleteOptions): Promise<WriteResult> {
  const { type } = req.served;
  const version = req.served.version.name;
  for (let attempt = 0; ; attempt++) {
    const live = getLive(ctx, req);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== live.metadata.uid) {
      throw preconditionFailed(type.kind, req.name!, `the UID in the precondition (${pre.uid}) does not match the UID in record (${live.metadata.uid}). The object might have been deleted and then recreated`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== live.metadata.resourceVersion) {
      throw preconditionFailed(type.kind, req.name!, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${live.metadata.resourceVersion}). The object might have been modified`);
    }
    if (req.dryRun) return { code: 200, object: convertTo(type, live, version), warnings: [], removed: (live.metadata.finalizers ?? []).length === 0 };
    try {
      if ((live.metadata.finalizers ?? []).length > 0) {
        if (live.metadata.deletionTimestamp) return { code: 200, object: convertTo(type, live, version), warnings: [] };
        const marked = clone(live);
        marked.metadata.deletionTimestamp = timestamp(ctx.clock);
        marked.metadata.deletionGracePeriodSeconds = 0;
        const stored = await ctx.store.update(refOf(type), marked, Number(live.metadata.resourceVersion));
        return { code: 200, object: convertTo(type, stored, version), warnings: [] };
      }
      const orphan = options.propagationPolicy === 'Orphan' || options.orphanDependents === true;
      return { code: 200, object: convertTo(type, await removeObject(ctx, req, live, orphan), version), warnings: [], removed: true };
    } catch (e) {
      const err = storeFailure(e, req.served, req.name!);
      // A concurrent write raced us: re-read and try again, as kube-apiserver's GuaranteedUpdate does.
      if (err.reason !== 'Conflict' || attempt >= 4) throw err;
    }
  }
}
