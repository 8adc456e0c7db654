// The shapes of the policy.linkerd.io objects (and Namespaces) the policy service reads, as plain
// JSON from the API. Only the fields Outpost interprets are declared.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
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

export interface HttpRouteObject {
  metadata: ObjectMeta;
  spec?: {
    parentRefs?: TargetRef[];
    rules?: {
      matches?: {
        path?: { type?: string; value?: string };
        method?: string;
        headers?: { type?: string; name?: string; value?: string }[];
        queryParams?: { type?: string; name?: string; value?: string }[];
      }[];
    }[];
  };
}

export interface NamespaceObject {
  metadata: ObjectMeta;
}
