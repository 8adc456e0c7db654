// GET of one object and of collections: selectors, paging, version conversion and the response
// shapes kubectl and client-node ask for (plain object/list, Table, PartialObjectMetadata).
import type { KubeObject, ListOptions } from '../../store/types.js';
import { apiVersionOf, refOf, type ServedResource } from '../server/registry.js';
import { badRequest, notFound } from '../server/status.js';
import { convertTo } from './admission.js';
import { storeFailure, type ApiContext } from './context.js';

export type ResponseShape = 'object' | 'table' | 'metadata';

export interface ReadRequest {
  served: ServedResource;
  namespace?: string;
  name?: string;
  shape: ResponseShape;
  /** Renders stored objects as a Table (one row each). */
  table(objs: KubeObject[], listMeta: Record<string, unknown>): unknown;
}

export function partialObjectMetadata(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function getObject(ctx: ApiContext, req: ReadRequest): unknown {
  const { type } = req.served;
  const live = ctx.store.get(refOf(type), req.namespace ?? '', req.name!);
  if (!live) throw notFound(type.group, type.plural, req.name!);
  const obj = convertTo(type, live, req.served.version.name);
  if (req.shape === 'table') return req.table([obj], { resourceVersion: obj.metadata.resourceVersion });
  if (req.shape === 'metadata') return partialObjectMetadata(obj);
  return obj;
}

/** A list request's selectors, paging and revision: the store's list options (the namespace comes from the path). */
export type ListQuery = Omit<ListOptions, 'namespace'>;

export function parseLimit(q: URLSearchParams): number | undefined {
  const raw = q.get('limit');
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`limit must be a non-negative integer, not "${raw}"`);
  return n === 0 ? undefined : n;
}

export function listObjects(ctx: ApiContext, req: ReadRequest, query: ListQuery): unknown {
  const { type, version } = req.served;
  let result;
  try {
    result = ctx.store.list(refOf(type), { namespace: req.namespace, filter: query.filter, limit: query.limit, continue: query.continue, revision: query.revision });
  } catch (e) {
    throw storeFailure(e, req.served, '');
  }
  const items = result.items.map((o) => convertTo(type, o, version.name));
  const listMeta: Record<string, unknown> = { resourceVersion: String(result.revision) };
  if (result.continue) listMeta.continue = result.continue;
  if (req.shape === 'table') return req.table(items, listMeta);
  if (req.shape === 'metadata') {
    return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: items.map(partialObjectMetadata) };
  }
  return { kind: type.listKind, apiVersion: apiVersionOf(type.group, version.name), metadata: listMeta, items };
}
