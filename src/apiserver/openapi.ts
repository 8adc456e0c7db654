// OpenAPI v3 documents generated from the registry: the /openapi/v3 index and one document per
// group-version. kubectl apply needs a PATCH operation with x-kubernetes-group-version-kind and
// a fieldValidation parameter (then it validates server-side); kubectl explain reads the schemas.
import { createHash } from 'node:crypto';
import type { ResourceType, Schema } from './resources/types.js';
import { RESOURCE_TYPES, groupVersions, namedGroups, servedVersion } from './resources/index.js';
import { objectMetaSchema } from './schema/builders.js';

type Json = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const OBJECT_META_REF = `#/components/schemas/${META}.ObjectMeta`;
const LIST_META_REF = `#/components/schemas/${META}.ListMeta`;
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const INT_OR_STRING_REF = `#/components/schemas/${INT_OR_STRING}`;
const KUBERNETES_VERSION = 'v1.32.4';

/**
 * Patch types advertised per PATCH operation. strategic-merge-patch is deliberately not listed,
 * even for built-ins: kubectl would then compute SMP from these schemas instead of from its own
 * Go types (which carry the exact merge keys), after /openapi/v2 answers 404.
 */
const PATCH_CONTENT_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];

/** `/openapi/v3` path key of a group-version: `api/v1` or `apis/{group}/{version}`. */
export function groupVersionPathKey(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Component schema name, as Kubernetes names them (`io.k8s.api.core.v1.Service`, `io.linkerd.workload.v1beta1.ExternalWorkload`). */
export function schemaName(rt: ResourceType, version: string, kind = rt.kind): string {
  if (rt.builtin) {
    const pkg = rt.group === '' ? 'core' : rt.group.replace(/\.k8s\.io$/, '').replace(/\./g, '');
    return `io.k8s.api.${pkg}.${version}.${kind}`;
  }
  return `${rt.group.split('.').reverse().join('.')}.${version}.${kind}`;
}

function gvk(rt: ResourceType, version: string, kind = rt.kind): Json {
  return { group: rt.group, version, kind };
}

/** A registry Schema as OpenAPI: metadata becomes a $ref to ObjectMeta so explain shows its fields. */
function toOpenApi(schema: Schema, atRoot = false): Json {
  if (schema['x-kubernetes-int-or-string']) {
    // As kube-apiserver publishes it, so that kubectl explain prints <IntOrString>.
    return { allOf: [{ $ref: INT_OR_STRING_REF }], ...(schema.description ? { description: schema.description } : {}) };
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' || k === 'items' || k === 'additionalProperties') continue;
    out[k] = v;
  }
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([name, sub]) =>
        atRoot && name === 'metadata' ? [name, { allOf: [{ $ref: OBJECT_META_REF }], default: {}, description: 'Standard object metadata.' }] : [name, toOpenApi(sub)],
      ),
    );
  }
  if (schema.items) out.items = toOpenApi(schema.items);
  if (typeof schema.additionalProperties === 'object') out.additionalProperties = toOpenApi(schema.additionalProperties);
  else if (schema.additionalProperties === true) out.additionalProperties = true;
  return out;
}

function ref(name: string): Json {
  return { $ref: `#/components/schemas/${name}` };
}

function jsonContent(schemaRef: Json): Json {
  return { 'application/json': { schema: schemaRef }, 'application/yaml': { schema: schemaRef } };
}

const queryParam = (name: string, description: string, type = 'string'): Json => ({ name, in: 'query', description, schema: { type, uniqueItems: true } });
const pathParam = (name: string, description: string): Json => ({ name, in: 'path', required: true, description, schema: { type: 'string', uniqueItems: true } });

const DRY_RUN = queryParam('dryRun', 'When present, indicates that modifications should not be persisted. Valid value: All.');
const FIELD_MANAGER = queryParam('fieldManager', 'A name associated with the actor or entity that is making these changes.');
const FIELD_VALIDATION = queryParam('fieldValidation', 'How to handle unknown or duplicate fields: Ignore, Warn or Strict (the default).');
const FORCE = queryParam('force', 'Force is going to "force" Apply requests (apply-patch only).', 'boolean');
const WRITE_PARAMS = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const LIST_PARAMS = ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'timeoutSeconds', 'watch', 'allowWatchBookmarks'].map((n) =>
  queryParam(n, `See the Kubernetes API conventions for ${n}.`, n === 'limit' || n === 'timeoutSeconds' ? 'integer' : n === 'watch' || n === 'allowWatchBookmarks' ? 'boolean' : 'string'),
);

function operation(rt: ResourceType, version: string, action: string, opId: string, extra: Json = {}): Json {
  const responseSchema = action === 'list' ? ref(schemaName(rt, version, `${rt.kind}List`)) : ref(schemaName(rt, version));
  return {
    operationId: opId,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk(rt, version),
    responses: {
      '200': { description: 'OK', content: jsonContent(responseSchema) },
      '401': { description: 'Unauthorized' },
      default: { description: 'Error', content: jsonContent(ref(`${META}.Status`)) },
    },
    ...extra,
  };
}

/** `CoreV1NamespacedService`, `WorkloadLinkerdIoV1beta1NamespacedExternalWorkload`: operationIds like Kubernetes'. */
function operationStem(rt: ResourceType, version: string): string {
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const group = rt.group ? rt.group.split(/[.-]/).map(cap).join('') : 'Core';
  return `${group}${cap(version)}${rt.namespaced ? 'Namespaced' : ''}${rt.kind}`;
}

function pathsFor(rt: ResourceType, version: string): Record<string, Json> {
  const base = rt.group ? `/apis/${rt.group}/${version}` : `/api/${version}`;
  const scope = rt.namespaced ? `${base}/namespaces/{namespace}/${rt.plural}` : `${base}/${rt.plural}`;
  const nsParam = rt.namespaced ? [pathParam('namespace', 'object name and auth scope, such as for teams and projects')] : [];
  const nameParam = pathParam('name', `name of the ${rt.kind}`);
  const id = operationStem(rt, version);
  const body = { required: true, content: jsonContent(ref(schemaName(rt, version))) };
  const patchBody = { required: true, content: Object.fromEntries(PATCH_CONTENT_TYPES.map((t) => [t, { schema: ref(`${META}.Patch`) }])) };
  const can = (verb: string) => rt.verbs.includes(verb);
  const paths: Record<string, Json> = {};

  const collection: Json = { parameters: nsParam };
  if (can('list')) collection.get = operation(rt, version, 'list', `list${id}`, { parameters: LIST_PARAMS });
  if (can('create')) collection.post = operation(rt, version, 'post', `create${id}`, { parameters: WRITE_PARAMS, requestBody: body });
  if (can('deletecollection')) collection.delete = operation(rt, version, 'deletecollection', `deleteCollection${id}`, { parameters: [DRY_RUN, ...LIST_PARAMS.slice(0, 2)] });
  paths[scope] = collection;
  if (rt.namespaced && can('list')) paths[`${base}/${rt.plural}`] = { get: operation(rt, version, 'list', `list${id.replace('Namespaced', '')}ForAllNamespaces`, { parameters: LIST_PARAMS }) };
  if (rt.virtual) return paths;

  const item: Json = { parameters: [nameParam, ...nsParam] };
  if (can('get')) item.get = operation(rt, version, 'get', `read${id}`);
  if (can('update')) item.put = operation(rt, version, 'put', `replace${id}`, { parameters: WRITE_PARAMS, requestBody: body });
  if (can('patch')) item.patch = operation(rt, version, 'patch', `patch${id}`, { parameters: [...WRITE_PARAMS, FORCE], requestBody: patchBody });
  if (can('delete')) item.delete = operation(rt, version, 'delete', `delete${id}`, { parameters: [DRY_RUN] });
  paths[`${scope}/{name}`] = item;
  if (rt.statusSubresource) {
    paths[`${scope}/{name}/status`] = {
      parameters: [nameParam, ...nsParam],
      get: operation(rt, version, 'get', `read${id}Status`),
      put: operation(rt, version, 'put', `replace${id}Status`, { parameters: WRITE_PARAMS, requestBody: body }),
      patch: operation(rt, version, 'patch', `patch${id}Status`, { parameters: [...WRITE_PARAMS, FORCE], requestBody: patchBody }),
    };
  }
  return paths;
}

function metaSchemas(): Record<string, Json> {
  return {
    [`${META}.ObjectMeta`]: { ...toOpenApi(objectMetaSchema), description: 'ObjectMeta is metadata that all persisted resources must have.' },
    [`${META}.ListMeta`]: { type: 'object', properties: { resourceVersion: { type: 'string' }, continue: { type: 'string' }, remainingItemCount: { type: 'integer', format: 'int64' } } },
    [`${META}.Status`]: {
      type: 'object',
      properties: { kind: { type: 'string' }, apiVersion: { type: 'string' }, status: { type: 'string' }, message: { type: 'string' }, reason: { type: 'string' }, code: { type: 'integer' }, details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    },
    [`${META}.Patch`]: { type: 'object', description: 'A patch body (merge, JSON or apply).' },
    // As kube-apiserver publishes it (no `type`): kubectl explain then prints <IntOrString>.
    [INT_OR_STRING]: { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }], description: 'An integer or a string (a port number or an IANA port name).' },
  };
}

/** The document for one group-version ('' group = core), or undefined when not served. */
export function openApiDocument(group: string, version: string, types: ResourceType[] = RESOURCE_TYPES): Json | undefined {
  const served = types.filter((t) => t.group === group && servedVersion(t, version));
  if (!served.length) return undefined;
  const paths: Record<string, Json> = {};
  const schemas: Record<string, Json> = metaSchemas();
  for (const rt of served) {
    Object.assign(paths, pathsFor(rt, version));
    const def = servedVersion(rt, version)!;
    schemas[schemaName(rt, version)] = { ...toOpenApi(def.schema, true), 'x-kubernetes-group-version-kind': [gvk(rt, version)] };
    schemas[schemaName(rt, version, `${rt.kind}List`)] = {
      type: 'object',
      required: ['items'],
      description: `${rt.listKind} is a list of ${rt.kind}.`,
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { allOf: [{ $ref: LIST_META_REF }], default: {} }, items: { type: 'array', items: ref(schemaName(rt, version)) } },
      'x-kubernetes-group-version-kind': [gvk(rt, version, rt.listKind)],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: KUBERNETES_VERSION }, paths, components: { schemas } };
}

const hashCache = new Map<string, string>();

/** A stable content hash of a document (uppercase hex, like kube-apiserver's ?hash=). */
export function documentHash(group: string, version: string, types: ResourceType[] = RESOURCE_TYPES): string {
  const cacheKey = `${types === RESOURCE_TYPES ? 'default' : 'custom'}:${group}/${version}`;
  let hash = types === RESOURCE_TYPES ? hashCache.get(cacheKey) : undefined;
  if (!hash) {
    hash = createHash('sha512').update(JSON.stringify(openApiDocument(group, version, types) ?? null)).digest('hex').slice(0, 128).toUpperCase();
    if (types === RESOURCE_TYPES) hashCache.set(cacheKey, hash);
  }
  return hash;
}

/** `/openapi/v3`: every served group-version, with the URL (and hash) of its document. */
export function openApiIndex(types: ResourceType[] = RESOURCE_TYPES): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const group of ['', ...namedGroups(types)]) {
    for (const version of groupVersions(group, types)) {
      const key = groupVersionPathKey(group, version);
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${documentHash(group, version, types)}` };
    }
  }
  return { paths };
}

/** Parses `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}` into group and version. */
export function parseOpenApiPath(pathname: string): { group: string; version: string } | undefined {
  const core = /^\/openapi\/v3\/api\/([^/]+)\/?$/.exec(pathname);
  if (core) return { group: '', version: core[1] };
  const named = /^\/openapi\/v3\/apis\/([^/]+)\/([^/]+)\/?$/.exec(pathname);
  return named ? { group: named[1], version: named[2] } : undefined;
}
