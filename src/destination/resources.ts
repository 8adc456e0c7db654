// The shapes of the Kubernetes objects the destination service reads (Service, EndpointSlice,
// Pod), as plain JSON from the API. Only the fields Outpost interprets are declared.
import type { ObjectMeta } from '../policy/resources.js';

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

export interface PodObject {
  metadata: ObjectMeta;
  spec?: { serviceAccountName?: string; containers?: { name: string; ports?: { name?: string; containerPort: number }[] }[] };
  status?: { podIP?: string; podIPs?: { ip: string }[] };
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
