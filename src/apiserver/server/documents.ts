// Wires the documents the HTTP layer serves to the modules that compute them: discovery and
// OpenAPI (../discovery.ts, ../openapi.ts), Tables (../table.ts), protobuf bodies (../protobuf.ts).
import type { KubeObject } from '../../store/types.js';
import type { ResourceType } from '../resources/types.js';
import { AGGREGATED_DISCOVERY_CONTENT_TYPE, AGGREGATED_DISCOVERY_V2BETA1_CONTENT_TYPE, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, negotiateDiscovery } from '../discovery.js';
import { openApiDocument, openApiIndex } from '../openapi.js';
import { buildTable, type IncludeObject } from '../table.js';
import type { Clock } from '../../core/clock.js';
import type { ApiDocuments } from './pipeline.js';
import type { ResourceIndex } from './registry.js';
import { decodeKubernetesProtobuf } from '../protobuf.js';

export function apiDocuments(index: ResourceIndex, clock: Clock): ApiDocuments {
  const types = [...index.types];
  // The documents depend only on the registry, so each is computed once.
  const cache = new Map<string, unknown>();
  const once = (key: string, compute: () => unknown) => {
    if (!cache.has(key)) cache.set(key, compute());
    return cache.get(key);
  };
  return {
    aggregatedDiscovery(root, accept) {
      const version = negotiateDiscovery(accept);
      if (!version) return undefined;
      const contentType = version === 'v2' ? AGGREGATED_DISCOVERY_CONTENT_TYPE : AGGREGATED_DISCOVERY_V2BETA1_CONTENT_TYPE;
      return { contentType, body: once(`aggregated/${root}/${version}`, () => aggregatedDiscovery(root === 'api' ? '/api' : '/apis', types, version)) };
    },
    legacyDiscovery: (root, serverAddress) => (root === 'api' ? apiVersions(serverAddress) : once('groups', () => apiGroupList(types))),
    groupDiscovery: (group) => once(`group/${group}`, () => apiGroup(group, types)),
    resourceList: (group, version) => once(`resources/${group}/${version}`, () => apiResourceList(group, version, types)),
    openapiIndex: () => once('openapi', () => openApiIndex(types)),
    openapiGroupVersion: (group, version) => once(`openapi/${group}/${version}`, () => openApiDocument(group, version, types)),
    table(type: ResourceType, objs: KubeObject[], listMeta: Record<string, unknown>, opts: { includeColumns: boolean; includeObject: string }) {
      const includeObject: IncludeObject = opts.includeObject === 'None' || opts.includeObject === 'Object' ? opts.includeObject : 'Metadata';
      const table = buildTable(type, objs, {
        now: clock.now(),
        resourceVersion: listMeta.resourceVersion as string | undefined,
        continue: listMeta.continue as string | undefined,
        includeObject,
      });
      if (!opts.includeColumns) table.columnDefinitions = [];
      return table;
    },
    decodeProtobuf: (body) => decodeKubernetesProtobuf(body),
  };
}
