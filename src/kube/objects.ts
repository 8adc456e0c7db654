// The shapes of the Kubernetes objects the control plane reads, as plain JSON from the API (one
// set for every component). Only the fields Outpost interprets are declared. ExternalWorkloads and
// WorkloadGroups build on the subsets the pure workload logic reads (core/workloads/effective.ts,
// which the proxy shares).
import type { HttpRouteLike } from '../core/routes/http-route.js';
import type { ExternalWorkloadLike, WorkloadGroupLike } from '../core/workloads/effective.js';
import type { PodLike } from '../core/workloads/pod.js';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface ServerObject {
  metadata: ObjectMeta;
  spec?: {
    podSelector?: LabelSelector;
    externalWorkloadSelector?: LabelSelector;
    port?: number | string;
    proxyProtocol?: string;
  };
}

export interface MeshTlsClient {
  serviceAccounts?: { name: string; namespace?: string }[];
  identities?: string[];
  unauthenticatedTLS?: boolean;
}

export interface ServerAuthorizationObject {
  metadata: ObjectMeta;
  spec?: {
    server?: { name?: string; selector?: LabelSelector };
    client?: {
      meshTLS?: MeshTlsClient;
      unauthenticated?: boolean;
      networks?: { cidr: string; except?: string[] }[];
    };
  };
}

export interface TargetRef {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface AuthorizationPolicyObject {
  metadata: ObjectMeta;
  spec?: { targetRef?: TargetRef; requiredAuthenticationRefs?: TargetRef[] };
}

export interface MeshTlsAuthenticationObject {
  metadata: ObjectMeta;
  spec?: { identities?: string[]; identityRefs?: TargetRef[] };
}

export interface NetworkAuthenticationObject {
  metadata: ObjectMeta;
  spec?: { networks?: { cidr: string; except?: string[] }[] };
}

/** An HTTPRoute: the subset the route matching shared with the proxy reads (core/routes/http-route.ts). */
export type HttpRouteObject = HttpRouteLike & { metadata: ObjectMeta };

export interface NamespaceObject {
  metadata: ObjectMeta;
}

export interface ServicePortSpec {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export interface ServiceObject {
  metadata: ObjectMeta;
  spec?: { ports?: ServicePortSpec[]; clusterIP?: string; clusterIPs?: string[]; selector?: Record<string, string> };
}

export interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string };
  zone?: string;
  nodeName?: string;
  hostname?: string;
}

export interface EndpointSliceObject {
  metadata: ObjectMeta;
  addressType?: string;
  endpoints?: SliceEndpoint[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

/** A Pod: the subset the pure pod-workload logic reads (core/workloads/pod.ts). */
export type PodObject = PodLike & { metadata: ObjectMeta };

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ConfigMapObject {
  metadata: ObjectMeta;
  data?: Record<string, string>;
}

/** A condition of an ExternalWorkload's status (Ready), as the controllers write it. */
export interface WorkloadCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
}

/** status.proxy of an ExternalWorkload: what its proxy last reported to the health API (absent until one did). */
export interface WorkloadProxyStatus {
  connected?: boolean;
  version?: string;
  adminAddress?: string;
  /** host:port of the proxy's tap listener. */
  tapAddress?: string;
  inboundPort?: number;
  lastReportTime?: string;
  /** Expiry of the client certificate the proxy presented (RFC 3339). */
  certificateNotAfter?: string;
}

export type ExternalWorkloadObject = ExternalWorkloadLike & {
  metadata: ObjectMeta;
  status?: { conditions?: WorkloadCondition[]; proxy?: WorkloadProxyStatus };
};

export type WorkloadGroupObject = WorkloadGroupLike & { metadata: ObjectMeta };
