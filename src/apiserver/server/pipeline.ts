// What every request handler of the HTTP layer is given (the Pipeline): the API context, the
// documents it serves but does not compute, the authenticator and the open watches.
import type { KubeObject } from '../../store/types.js';
import type { Authenticator } from '../auth/authn.js';
import type { ApiContext } from '../handlers/context.js';
import type { ResourceType } from '../resources/types.js';
import type { WatchTracker } from '../watch/watch.js';

/** The documents and renderings the HTTP layer serves but does not compute itself. */
export interface ApiDocuments {
  /** APIGroupDiscoveryList for /api or /apis when Accept asks for aggregated discovery, with its exact Content-Type. */
  aggregatedDiscovery(root: 'api' | 'apis', accept: string | undefined): { contentType: string; body: unknown } | undefined;
  /** Legacy APIVersions (/api) or APIGroupList (/apis). */
  legacyDiscovery(root: 'api' | 'apis', serverAddress: string): unknown;
  /** Legacy APIGroup for /apis/{group}, undefined if unknown. */
  groupDiscovery(group: string): unknown;
  /** APIResourceList for /api/v1 or /apis/{g}/{v}, undefined if unknown. */
  resourceList(group: string, version: string): unknown;
  openapiIndex(): unknown;
  openapiGroupVersion(group: string, version: string): unknown;
  /** A meta.k8s.io/v1 Table of objects (already in the served version). */
  table(type: ResourceType, objs: KubeObject[], listMeta: Record<string, unknown>, opts: { includeColumns: boolean; includeObject: string }): unknown;
  /** Decodes a k8s protobuf envelope (Namespace, ServiceAccount, TokenRequest) to a JSON object. */
  decodeProtobuf(body: Buffer): unknown;
}

export interface Pipeline {
  ctx: ApiContext;
  docs: ApiDocuments;
  authenticator: Authenticator;
  watches: WatchTracker;
  /** host:port clients reach us at, for legacy discovery's serverAddressByClientCIDRs. */
  serverAddress(): string;
}
