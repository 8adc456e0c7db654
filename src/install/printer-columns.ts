// The JSONPath of every table column the embedded API prints (src/apiserver/resources: table.columns),
// so `kubectl get` shows the same columns on a cluster. The embedded API computes some cells (an
// identity inherited from a group, for example); the cluster shows the field as written.
import type { ResourceType } from '../apiserver/resources/types.js';

const READY = '.status.conditions[?(@.type=="Ready")].status';

/** kind → column name → JSONPath. test/install/render.test.ts requires one for every column. */
export const COLUMN_PATHS: Record<string, Record<string, string>> = {
  ExternalWorkload: {
    Identity: '.spec.meshTLS.identity',
    IPs: '.spec.workloadIPs[*].ip',
    Ready: READY,
    Group: '.metadata.labels.workloadGroup',
    'Service-Account': String.raw`.metadata.annotations.outpost\.io/service-account`,
  },
  WorkloadGroup: { Identity: '.spec.meshTLS.identity', Members: '.status.members', Ready: '.status.readyMembers' },
  Server: { Port: '.spec.port', Protocol: '.spec.proxyProtocol', 'Access Policy': '.spec.accessPolicy', Selector: '.spec.externalWorkloadSelector' },
  ServerAuthorization: { Server: '.spec.server.name' },
  AuthorizationPolicy: { Target: '.spec.targetRef.name', Authentications: '.spec.requiredAuthenticationRefs[*].name' },
  MeshTLSAuthentication: { Identities: '.spec.identities' },
  NetworkAuthentication: { Networks: '.spec.networks[*].cidr' },
  HTTPRoute: { Hostnames: '.spec.hostnames', Parents: '.spec.parentRefs[*].name' },
};

/** Per version: v1alpha1 ExternalWorkloads spell the TLS block meshTls. */
const VERSION_OVERRIDES: Record<string, Record<string, string>> = {
  'ExternalWorkload/v1alpha1': { Identity: '.spec.meshTls.identity' },
};

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export function printerColumns(rt: ResourceType, version: string): PrinterColumn[] {
  const paths = { ...COLUMN_PATHS[rt.kind], ...VERSION_OVERRIDES[`${rt.kind}/${version}`] };
  const columns: PrinterColumn[] = rt.table.columns.map((c) => {
    const jsonPath = paths[c.name];
    if (!jsonPath) throw new Error(`no JSONPath for column ${c.name} of ${rt.kind} (src/install/printer-columns.ts)`);
    // The embedded Ready column of a group is "ready/members"; the cluster prints the count.
    const type = rt.kind === 'WorkloadGroup' && c.name === 'Ready' ? 'integer' : c.type === 'date' ? 'date' : c.type;
    return { name: c.name, type, jsonPath, ...(c.description ? { description: c.description } : {}), ...(c.priority ? { priority: c.priority } : {}) };
  });
  columns.push({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' });
  return columns;
}
