// What `outpost explain` knows about one ExternalWorkload: the raw API objects around it (gathered
// by gather.ts through client-node) and the shape of the explanation computed from them (pure).
import type { ExternalWorkloadLike, WorkloadGroupLike } from '../core/workloads/effective.js';
import type { EndpointSliceObject, ExternalWorkloadObject, ServiceObject } from '../kube/objects.js';
import type { DefaultPolicy } from '../policy/compute.js';
import type {
  AuthorizationPolicyObject,
  HttpRouteObject,
  MeshTlsAuthenticationObject,
  NamespaceObject,
  NetworkAuthenticationObject,
  ServerAuthorizationObject,
  ServerObject,
} from '../kube/objects.js';

/** The fields of a core/v1 Event read here; timestamps as the API sends them (string) or client-node parses them (Date). */
export interface EventLike {
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: Date | string | null;
  lastTimestamp?: Date | string | null;
  eventTime?: Date | string | null;
  metadata?: { creationTimestamp?: Date | string };
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
  source?: { component?: string };
  reportingComponent?: string;
}

export interface ExplainFacts {
  /** Milliseconds since the epoch, when the facts were read. */
  now: number;
  workload: ExternalWorkloadObject;
  /** The WorkloadGroup its `workloadGroup` label names, when that exists. */
  group?: WorkloadGroupLike;
  /** ServiceAccount names of the workload's namespace. */
  serviceAccounts: string[];
  /** Events of the workload's namespace (those about other objects are ignored). */
  events: EventLike[];
  /** Services and EndpointSlices of the workload's namespace. */
  services: ServiceObject[];
  endpointSlices: EndpointSliceObject[];
  policy: {
    namespace?: NamespaceObject;
    servers: ServerObject[];
    serverAuthorizations: ServerAuthorizationObject[];
    authorizationPolicies: AuthorizationPolicyObject[];
    httpRoutes: HttpRouteObject[];
    meshTlsAuthentications: MeshTlsAuthenticationObject[];
    networkAuthentications: NetworkAuthenticationObject[];
    /** Every ExternalWorkload and WorkloadGroup (ServiceAccount references expand to bound workloads' identities). */
    workloads: ExternalWorkloadLike[];
    groups: WorkloadGroupLike[];
    clusterDefault: DefaultPolicy;
    trustDomain: string;
  };
}

export type Verdict = 'ok' | 'warn' | 'fail';

export interface Section {
  id: 'enrolment' | 'certificate' | 'health' | 'services' | 'policy' | 'capture';
  title: string;
  /** Facts, one per line, as shown above the verdict. */
  details: string[];
  verdict: Verdict;
  /** The verdict line's text (without the mark). */
  summary: string;
  /** Commands that fix the problem, in the order to try them. */
  fixes: string[];
  /** The same facts, structured, for `-o json`. */
  data: Record<string, unknown>;
}

export interface Explanation {
  workload: {
    namespace: string;
    name: string;
    group?: string;
    identity: string;
    serverName: string;
    addresses: string[];
    ports: { name?: string; port: number; protocol?: string }[];
    labels: Record<string, string>;
  };
  sections: Section[];
  /** True when no section failed. */
  reachable: boolean;
  /** "traffic can reach it", or the first blocking reason. */
  summary: string;
}
