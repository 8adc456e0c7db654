// HTTP adapter for resource paths: checks scope, subresource and verb, decodes the body and the
// query (dryRun, fieldValidation, selectors, paging, watch), calls the handler and writes the
// reply (object, list, Table or PartialObjectMetadata) with any warnings.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../store/types.js';
import { CORE_FIELDS, SelectorError, selectorFilter } from '../selectors.js';
import { convertTo, parseFieldValidation } from '../handlers/admission.js';
import type { WriteRequest } from '../handlers/context.js';
import type { ResourceType } from '../resources/types.js';
import { patchObject } from '../handlers/patch.js';
import { getObject, listObjects, parseLimit, partialObjectMetadata, type ReadRequest, type ResponseShape } from '../handlers/read.js';
import { createToken, reviewToken } from '../handlers/tokens.js';
import { createObject, deleteObject, replaceObject, type DeleteOptions } from '../handlers/write.js';
import { deleteNamespace } from '../lifecycle/namespaces.js';
import { MAX_OPEN_WATCHES, serveWatch } from '../watch/watch.js';
import type { Pipeline } from './pipeline.js';
import { apiVersionOf, refOf, type ServedResource } from './registry.js';
import { mediaTypeOf, parseObjectBody, parseResourceVersion, PROTOBUF_MEDIA_TYPE, queryFlag, readBody, requireObject, sendJson, wantsMetadataOnly, wantsTable, warningHeaders } from './request.js';
import type { ResourcePath } from './routes.js';
import { badRequest, invalid, methodNotAllowed, notFoundPath, tooManyRequests, unsupportedMediaType } from './status.js';
import { forbidden } from '../../kube/field-errors.js';
import { managerOf } from '../patch/update-ownership.js';

const BODY_TYPES = ['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE];

export async function handleResource(p: Pipeline, req: IncomingMessage, res: ServerResponse, url: URL, target: ResourcePath): Promise<void> {
  const { ctx } = p;
  const served = ctx.index.lookup(target.group, target.version, target.plural);
  const method = req.method ?? 'GET';
  if (!served || (!served.type.namespaced && target.namespace !== undefined) || !subresourceServed(served, target.subresource)) {
    req.resume();
    throw notFoundPath();
  }
  const { type } = served;
  const q = url.searchParams;
  const write: WriteRequest = {
    served,
    namespace: type.namespaced ? target.namespace : undefined,
    name: target.name,
    subresource: target.subresource,
    dryRun: parseDryRun(q),
    fieldValidation: parseFieldValidation(q.get('fieldValidation')),
    fieldManager: q.get('fieldManager') ?? undefined,
    force: queryFlag(q, 'force'),
    manager: managerOf(q.get('fieldManager') ?? undefined, req.headers['user-agent']),
  };
  const reply = (code: number, object: unknown, warnings: string[] = []) => sendJson(res, code, object, warningHeaders(warnings));
  const verb = verbOf(method, target, q);
  if (!target.subresource && verb && !type.verbs.includes(verb)) {
    req.resume();
    throw methodNotAllowed();
  }

  if (type.virtual) {
    if (method !== 'POST' || target.name) throw methodNotAllowed();
    return reply(...spread(reviewToken(ctx, requireObject(await decodeBody(p, req)))));
  }
  if (target.subresource === 'token') {
    if (method !== 'POST') throw methodNotAllowed();
    const body = requireObject(await decodeBody(p, req));
    return reply(...spread(createToken(ctx, target.namespace!, target.name!, body, write.dryRun)));
  }
  if (target.subresource === 'status' && !['GET', 'HEAD', 'PUT', 'PATCH'].includes(method)) throw methodNotAllowed();
  const needsNamespace = type.namespaced && target.namespace === undefined;
  switch (method) {
    case 'GET':
    case 'HEAD': {
      const read = readRequest(p, req, served, write, q);
      if (!target.name) {
        const filter = selectors(q, type.group, type.plural);
        if (queryFlag(q, 'watch')) return watch(p, req, res, served, write.namespace, filter, read.shape, q);
        const revision = listRevision(ctx, q);
        return reply(200, listObjects(ctx, read, { filter, limit: parseLimit(q), continue: q.get('continue') ?? undefined, revision }));
      }
      if (needsNamespace) throw notFoundPath();
      return reply(200, getObject(ctx, read));
    }
    case 'POST': {
      if (target.name || needsNamespace) throw methodNotAllowed();
      const result = await createObject(ctx, write, requireObject(await decodeBody(p, req)) as KubeObject);
      return reply(result.code, shapeOne(p, req, served, result.object), result.warnings);
    }
    case 'PUT': {
      if (!target.name || needsNamespace) throw methodNotAllowed();
      const body = requireObject(await decodeBody(p, req)) as KubeObject;
      const result = await replaceObject(ctx, write, body);
      return reply(result.code, shapeOne(p, req, served, result.object), result.warnings);
    }
    case 'PATCH': {
      if (!target.name || needsNamespace) throw methodNotAllowed();
      const contentType = mediaTypeOf(req.headers['content-type']);
      const body = await readBody(req);
      const result = await patchObject(ctx, write, contentType, body);
      return reply(result.code, shapeOne(p, req, served, result.object), result.warnings);
    }
    case 'DELETE': {
      const raw = await readBody(req);
      const options = raw.toString('utf8').trim() === '' ? {} : (requireObject(parseObjectBody(raw, 'application/json'), 'DeleteOptions') as DeleteOptions);
      if (!target.name) return reply(200, await deleteCollection(p, write, q, options));
      if (needsNamespace) throw methodNotAllowed();
      const result = type.group === '' && type.plural === 'namespaces' ? await deleteNamespace(ctx, write) : await deleteObject(ctx, write, options);
      if (result.removed && !returnsDeletedObject(type)) return reply(200, deletedStatus(type, result.object), result.warnings);
      return reply(result.code, shapeOne(p, req, served, result.object), result.warnings);
    }
    default:
      req.resume();
      throw methodNotAllowed();
  }
}

/**
 * The revision a list is read at: resourceVersionMatch=Exact lists as of resourceVersion (410 once
 * compacted); otherwise the current state, which satisfies any resourceVersion up to it (a newer
 * one is refused by parseResourceVersion).
 */
function listRevision(ctx: Pipeline['ctx'], q: URLSearchParams): number | undefined {
  const rv = parseResourceVersion(q, ctx.store.revision());
  const match = q.get('resourceVersionMatch') ?? '';
  if (match !== '' && rv === undefined) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')]);
  }
  return match === 'Exact' && rv ? rv : undefined;
}

/**
 * Whether a DELETE that removed the object answers with it: Services do (and Namespaces, which go
 * Terminating first), like kube-apiserver's registries; every other kind, custom resources
 * included, answers a Status Success naming what went.
 */
function returnsDeletedObject(type: ResourceType): boolean {
  return type.group === '' && type.plural === 'services';
}

function deletedStatus(type: ResourceType, obj: KubeObject): unknown {
  const details = { name: obj.metadata.name, group: type.group, kind: type.plural, uid: obj.metadata.uid };
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

/** The Kubernetes verb of a request on the main resource (undefined for unknown methods). */
function verbOf(method: string, target: ResourcePath, q: URLSearchParams): string | undefined {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return target.name ? 'get' : queryFlag(q, 'watch') ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return target.name ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

const spread = (r: { code: number; object: unknown }): [number, unknown] => [r.code, r.object];

function subresourceServed(served: ServedResource, sub: string | undefined): boolean {
  if (sub === undefined) return true;
  if (sub === 'status') return served.type.statusSubresource;
  if (sub === 'token') return served.type.group === '' && served.type.plural === 'serviceaccounts';
  return false;
}

function parseDryRun(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

function selectors(q: URLSearchParams, group: string, plural: string): ((obj: KubeObject) => boolean) | undefined {
  try {
    return selectorFilter(q.get('labelSelector') ?? undefined, q.get('fieldSelector') ?? undefined, group === '' && Object.hasOwn(CORE_FIELDS, plural) ? CORE_FIELDS[plural] : undefined);
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}

async function decodeBody(p: Pipeline, req: IncomingMessage): Promise<unknown> {
  const contentType = mediaTypeOf(req.headers['content-type']) || 'application/json';
  const body = await readBody(req);
  if (contentType === PROTOBUF_MEDIA_TYPE) {
    try {
      return p.docs.decodeProtobuf(body);
    } catch (e) {
      if ((e as { reason?: string }).reason === 'UnsupportedMediaType') throw unsupportedMediaType(contentType, BODY_TYPES);
      throw badRequest(`the protobuf request body could not be decoded: ${(e as Error).message}`);
    }
  }
  if (contentType !== 'application/json' && contentType !== 'application/yaml' && contentType !== 'text/yaml') {
    throw unsupportedMediaType(contentType, BODY_TYPES);
  }
  return parseObjectBody(body, contentType);
}

function shapeOf(req: IncomingMessage): ResponseShape {
  const accept = req.headers.accept;
  if (wantsTable(accept)) return 'table';
  if (wantsMetadataOnly(accept)) return 'metadata';
  return 'object';
}

function readRequest(p: Pipeline, req: IncomingMessage, served: ServedResource, write: WriteRequest, q: URLSearchParams): ReadRequest {
  const includeObject = q.get('includeObject') ?? 'Metadata';
  return {
    served,
    namespace: write.namespace,
    name: write.name,
    shape: shapeOf(req),
    table: (objs, listMeta) => p.docs.table(served.type, objs, listMeta, { includeColumns: true, includeObject }),
  };
}

/** Write replies honour Accept too (kubectl asks for a Table on some writes). */
function shapeOne(p: Pipeline, req: IncomingMessage, served: ServedResource, obj: KubeObject): unknown {
  const shape = shapeOf(req);
  if (shape === 'table') return p.docs.table(served.type, [obj], { resourceVersion: obj.metadata.resourceVersion }, { includeColumns: true, includeObject: 'Metadata' });
  if (shape === 'metadata') return partialObjectMetadata(obj);
  return obj;
}

function watch(
  p: Pipeline,
  req: IncomingMessage,
  res: ServerResponse,
  served: ServedResource,
  namespace: string | undefined,
  filter: ((o: KubeObject) => boolean) | undefined,
  shape: ResponseShape,
  q: URLSearchParams,
): void {
  const { type, version } = served;
  const rv = String(parseResourceVersion(q, p.ctx.store.revision()) ?? '');
  const timeout = q.get('timeoutSeconds');
  const timeoutSeconds = timeout === null || timeout === '' ? undefined : Number(timeout);
  if (timeoutSeconds !== undefined && !(Number.isFinite(timeoutSeconds) && timeoutSeconds >= 0)) throw badRequest(`timeoutSeconds must be a non-negative number, not "${timeout}"`);
  const includeObject = q.get('includeObject') ?? 'Metadata';
  const sendInitialEvents = queryFlag(q, 'sendInitialEvents');
  if (sendInitialEvents && (q.get('resourceVersionMatch') ?? '') !== 'NotOlderThan') {
    throw invalid('ListOptions', 'meta.k8s.io', '', [forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan')]);
  }
  if (p.watches.count() >= MAX_OPEN_WATCHES) throw tooManyRequests(`too many open watches (the limit is ${MAX_OPEN_WATCHES}); retry later`);
  serveWatch(p.ctx.store, p.ctx.clock, p.watches, req, res, {
    ref: refOf(type),
    namespace,
    matches: filter ?? (() => true),
    resourceVersion: rv,
    allowBookmarks: queryFlag(q, 'allowWatchBookmarks'),
    sendInitialEvents,
    timeoutSeconds,
    contentType: 'application/json',
    bookmarkType: { apiVersion: apiVersionOf(type.group, version.name), kind: type.kind },
    shareKey: shape === 'table' ? undefined : `${version.name} ${shape}`,
    render: (stored, first) => {
      const obj = convertTo(type, stored, version.name);
      if (shape === 'table') return p.docs.table(type, [obj], { resourceVersion: obj.metadata.resourceVersion }, { includeColumns: first, includeObject });
      if (shape === 'metadata') return partialObjectMetadata(obj);
      return obj;
    },
  });
}

/** DELETE on a collection: deletes every matching object, answers the list of what was deleted. */
async function deleteCollection(p: Pipeline, write: WriteRequest, q: URLSearchParams, options: DeleteOptions): Promise<unknown> {
  const { type, version } = write.served;
  if (type.plural === 'namespaces') throw methodNotAllowed();
  const filter = selectors(q, type.group, type.plural);
  const items: KubeObject[] = [];
  for (const obj of p.ctx.store.list(refOf(type), { namespace: write.namespace, filter }).items) {
    const one = { ...write, namespace: obj.metadata.namespace, name: obj.metadata.name };
    try {
      items.push((await deleteObject(p.ctx, one, options)).object);
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
    }
  }
  return { kind: type.listKind, apiVersion: apiVersionOf(type.group, version.name), metadata: { resourceVersion: String(p.ctx.store.revision()) }, items };
}
