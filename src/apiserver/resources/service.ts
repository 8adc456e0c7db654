// core/v1 Service: schema, defaults (type ClusterIP, protocol TCP, targetPort = port; the cluster
// IP is allocated at create time, see service-ips.ts), validation, and kubectl's columns.
import type { KubeObject } from '../../store/types.js';
import type { FieldCause } from './types.js';
import { arr, bool, int32, intOrString, obj, preserved, rootSchema, str, stringMap, strings } from '../schema/builders.js';
import { child, index, invalid, required } from '../../kube/field-errors.js';
import { dns1123Subdomain, ipFamily } from '../../kube/formats.js';
import { validateLabels } from '../../kube/selectors.js';
import { validateObjectMeta, validatePortList, validatePortNumber, validatePortNumberOrName } from '../schema/meta.js';
import { declareResource, NONE, asArray, asRecord, col, formatLabelMap } from './common.js';

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP']; // sorted, as kube-apiserver lists them (explain, "supported values")

const serviceSchema = rootSchema(
  {
    spec: obj({
      type: str({ enum: SERVICE_TYPES, default: 'ClusterIP' }),
      ports: arr(
        obj(
          {
            name: str(),
            protocol: str({ enum: PROTOCOLS, default: 'TCP' }),
            appProtocol: str(),
            port: int32({ minimum: 1, maximum: 65535 }),
            targetPort: intOrString(),
            nodePort: int32(),
          },
          ['port'],
        ),
      ),
      selector: stringMap(),
      clusterIP: str(),
      clusterIPs: strings(),
      externalIPs: strings(),
      externalName: str(),
      sessionAffinity: str({ enum: ['ClientIP', 'None'], default: 'None' }),
      sessionAffinityConfig: preserved(),
      loadBalancerIP: str(),
      loadBalancerSourceRanges: strings(),
      loadBalancerClass: str(),
      externalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
      internalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
      healthCheckNodePort: int32(),
      publishNotReadyAddresses: bool(),
      ipFamilies: arr(str({ enum: ['IPv4', 'IPv6'] })),
      ipFamilyPolicy: str({ enum: ['SingleStack', 'PreferDualStack', 'RequireDualStack'] }),
      allocateLoadBalancerNodePorts: bool(),
      trafficDistribution: str(),
    }),
    status: obj({ loadBalancer: obj({ ingress: arr(preserved()) }), conditions: arr(preserved()) }),
  },
  undefined,
  'A Service is a named set of endpoints (pods and ExternalWorkloads selected by labels) behind one name.',
);

function defaultService(o: KubeObject): void {
  const spec = (o.spec ??= {}) as Record<string, unknown>;
  spec.type ??= 'ClusterIP';
  for (const p of asArray(spec.ports).map(asRecord)) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined && typeof p.port === 'number') p.targetPort = p.port;
  }
  if (spec.type !== 'ExternalName') {
    // The cluster IP itself comes from the API's allocator at create time (src/apiserver/service-ips.ts).
    if (spec.clusterIP && (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0)) spec.clusterIPs = [spec.clusterIP];
    spec.ipFamilies ??= [spec.clusterIP && ipFamily(String(spec.clusterIP)) === 6 ? 'IPv6' : 'IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  spec.sessionAffinity ??= 'None';
  const status = (o.status ??= {}) as Record<string, unknown>;
  status.loadBalancer ??= {};
}

function validateService(o: KubeObject, old?: KubeObject): FieldCause[] {
  const spec = asRecord(o.spec);
  const out = [...validateObjectMeta(o, 'dns1035-label')];
  const headless = spec.clusterIP === 'None';
  const ports = asArray(spec.ports);
  if (spec.type === 'ExternalName') {
    if (typeof spec.externalName !== 'string' || !spec.externalName) out.push(required('spec.externalName'));
    else for (const e of dns1123Subdomain(spec.externalName)) out.push(invalid('spec.externalName', spec.externalName, e));
  } else if (!headless && ports.length === 0) {
    out.push(required('spec.ports'));
  }
  out.push(...validatePortList(ports as never, 'spec.ports', { nameFormat: 'dns1123-label', requireNamesWhenMany: true }));
  ports.forEach((raw, i) => {
    const p = asRecord(raw);
    out.push(...validatePortNumberOrName(p.targetPort, child(index('spec.ports', i), 'targetPort')));
    if (p.nodePort !== undefined && p.nodePort !== 0) out.push(...validatePortNumber(p.nodePort, child(index('spec.ports', i), 'nodePort')));
  });
  out.push(...validateLabels(spec.selector as never, 'spec.selector'));
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && !headless && !ipFamily(spec.clusterIP)) {
    out.push(invalid('spec.clusterIP', spec.clusterIP, 'must be empty, `None`, or a valid IP address'));
  }
  asArray(spec.externalIPs).forEach((ip, i) => {
    if (typeof ip === 'string' && !ipFamily(ip)) out.push(invalid(index('spec.externalIPs', i), ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  const oldIP = asRecord(old?.spec).clusterIP;
  if (old && typeof oldIP === 'string' && oldIP && spec.type !== 'ExternalName' && asRecord(old.spec).type !== 'ExternalName' && spec.clusterIP !== oldIP) {
    out.push(invalid('spec.clusterIP', spec.clusterIP ?? '', 'field is immutable'));
  }
  return out;
}

function formatServicePorts(spec: Record<string, unknown>): string {
  const ports = asArray(spec.ports).map(asRecord);
  if (!ports.length) return NONE;
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function externalIPCell(spec: Record<string, unknown>, status: Record<string, unknown>): string {
  const external = asArray(spec.externalIPs).map(String);
  if (spec.type === 'ExternalName') return String(spec.externalName ?? NONE);
  if (spec.type === 'LoadBalancer') {
    const ingress = asArray(asRecord(status.loadBalancer).ingress).map((i) => asRecord(i).ip ?? asRecord(i).hostname).filter(Boolean).map(String);
    const all = [...ingress, ...external];
    return all.length ? all.join(',') : '<pending>';
  }
  return external.length ? external.join(',') : NONE;
}

export const serviceType = declareResource({
  group: '',
  kind: 'Service',
  shortNames: ['svc'],
  categories: ['all'],
  versions: [{ name: 'v1', schema: serviceSchema, served: true, storage: true }],
  statusSubresource: true,
  builtin: true,
  mergeKeys: { 'spec.ports': 'port', 'status.conditions': 'type' },
  applyDefaults: defaultService,
  validate: validateService,
  table: {
    columns: [
      col('Type', { description: 'The type of the service: ClusterIP, NodePort, LoadBalancer or ExternalName.' }),
      col('Cluster-IP', { description: 'The virtual IP of the service, or None when headless.' }),
      col('External-IP'),
      col('Port(s)'),
      col('Selector', { priority: 1, description: 'Label selector of the endpoints.' }),
    ],
    cells: (o) => {
      const spec = asRecord(o.spec);
      return [
        spec.type ?? 'ClusterIP',
        typeof spec.clusterIP === 'string' && spec.clusterIP ? spec.clusterIP : NONE,
        externalIPCell(spec, asRecord(o.status)),
        formatServicePorts(spec),
        formatLabelMap(spec.selector),
      ];
    },
  },
});
