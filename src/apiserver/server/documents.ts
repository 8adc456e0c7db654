// Wires the documents the HTTP layer serves to the modules that compute them: discovery and
// OpenAPI (../discovery.ts, ../openapi.ts), Tables (../table.ts), protobuf bodies (../protobuf.ts).
import type { KubeObject } from '../../store/types.js';
import type { ResourceType } from '../resources/types.js';
import { buildTable, type IncludeObject } from '../table.js';
import type { Clock } from '../../core/clock.js';
import type { ApiDocuments } from './http.js';
import type { ResourceIndex } from './registry.js';
import { badRequest } from './status.js';

export function apiDocuments(_index: ResourceIndex, clock: Clock): ApiDocuments {
  return {
    aggregatedDiscovery: () => ({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items: [] }),
    legacyDiscovery: () => undefined,
    groupDiscovery: () => undefined,
    resourceList: () => undefined,
    openapiIndex: () => undefined,
    openapiGroupVersion: () => undefined,
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
    decodeProtobuf: () => {
      throw badRequest('protobuf bodies are not supported yet');
    },
  };
}
