// workload.linkerd.io: ExternalWorkload (v1beta1 stored with spec.meshTLS, v1alpha1 served with
// spec.meshTls, converted both ways) and WorkloadGroup, both with a status subresource.
import type { KubeObject } from '../../store/types.js';
import { GROUP_LABEL, SERVICE_ACCOUNT_ANNOTATION, effectiveWorkload, serviceAccountIdentity } from '../../core/workloads/effective.js';
import type { FieldCause, ResourceType, Schema } from './types.js';
import { arr, bool, conditionSchema, dateTime, int32, obj, rootSchema, str, stringMap } from '../schema/builders.js';
import { child, duplicate, index, invalid } from '../../kube/field-errors.js';
import { dns1123Subdomain, goDuration, ipFamily, ipAddress, spiffeId } from '../../kube/formats.js';
import { validateObjectMeta, validatePortList } from '../schema/meta.js';
import { CLUSTER_DOMAIN, CONTROL_PLANE_NAMESPACE, identityNamespace, isReservedServerName } from '../../core/workloads/reserved-names.js';
import { declareResource, NONE, asArray, asRecord, col, conditionStatus, pick } from './common.js';

export const WORKLOAD_GROUP = 'workload.linkerd.io';
const PORT_PROTOCOLS = ['TCP', 'UDP'];
// List bounds: a real API server refuses a CRD whose CEL rules (src/install/cel-rules.ts) could cost
// more than its budget on unbounded lists, so both APIs bound them, generously.
const MAX_PORTS = 64;
const MAX_PROBES = 16;
const MAX_CONDITIONS = 32;

const meshTLSSchema = obj(
  {
    identity: str({ minLength: 1, maxLength: 2048, description: 'SPIFFE identity of the workload (the URI SAN of its certificate). Defaults to the group identity, the bound ServiceAccount identity, or spiffe://<trust-domain>/ns/<ns>/externalworkload/<name>.' }),
    serverName: str({ minLength: 1, maxLength: 253, description: 'DNS name the workload terminates TLS with (SNI). Defaults to <name>.<namespace>.svc.cluster.local.' }),
  },
  ['identity'],
  { description: 'TLS settings of the workload. Optional: see docs/adr/0002 for the defaults.' },
);

/** status.proxy: what the workload's proxy last told the health API (written by the control plane). */
const proxyStatusSchema = obj(
  {
    connected: bool({ description: 'A proxy holds a health stream open now.' }),
    version: str({ description: 'The proxy version.' }),
    adminAddress: str({ description: 'host:port of the proxy admin server (metrics), as the proxy reported it.' }),
    tapAddress: str({ description: 'host:port of the proxy tap listener (live requests), as the proxy reported it.' }),
    inboundPort: int32({ description: 'The proxy inbound port.' }),
    certificateNotAfter: dateTime({ description: 'Expiry of the certificate the proxy presented.' }),
  },
  undefined,
  { description: "The workload's proxy, as last seen by the health API." },
);

const portSchema = obj(
  {
    name: str({ description: 'An IANA_SVC_NAME, unique within the ports.' }),
    port: int32({ minimum: 1, maximum: 65535, description: 'Port number, 1-65535.' }),
    protocol: str({ enum: PORT_PROTOCOLS, default: 'TCP', description: 'TCP (the default) or UDP.' }),
  },
  ['port'],
);

export const probeSchema: Schema = obj(
  {
    path: str({ maxLength: 2048, description: 'HTTP path to GET; the probe is an HTTP GET on the workload.' }),
    port: int32({ minimum: 1, maximum: 65535, description: 'Port to probe on the workload IP.' }),
    scheme: str({ enum: ['HTTP', 'HTTPS'], default: 'HTTP', description: 'HTTP or HTTPS.' }),
    host: str({ description: 'Host header to send; defaults to the workload IP.' }),
    httpHeaders: arr(obj({ name: str(), value: str() }, ['name']), { description: 'Extra request headers.' }),
    initialDelay: str({ maxLength: 64, description: 'Go duration before the first probe, e.g. "5s".' }),
    period: str({ default: '10s', maxLength: 64, description: 'Go duration between probes, e.g. "10s".' }),
    timeout: str({ default: '1s', maxLength: 64, description: 'Go duration after which a probe fails, e.g. "5s".' }),
    failureThreshold: int32({ minimum: 1, default: 3, description: 'Consecutive failures before the workload is not ready.' }),
    successThreshold: int32({ minimum: 1, default: 1, description: 'Consecutive successes before the workload is ready again.' }),
  },
  ['port'],
);

function externalWorkloadSchema(meshKey: 'meshTLS' | 'meshTls'): Schema {
  return rootSchema(
    {
      spec: obj(
        {
          [meshKey]: meshTLSSchema,
          workloadIPs: arr(obj({ ip: str({ description: 'An IPv4 or IPv6 address.' }) }, ['ip']), { maxItems: 2, description: 'Addresses peers use to reach the workload: at most one IPv4 and one IPv6 address.' }),
          ports: arr(portSchema, { maxItems: MAX_PORTS, description: 'Ports the workload serves; Services select them by name or number. Group members add these to the group template ports.' }),
          probes: arr(probeSchema, { maxItems: MAX_PROBES, description: 'HTTP health checks; the Ready condition follows them. Members of a group without probes use the group template probes.' }),
        },
        undefined,
        { description: 'The desired state of the workload.' },
      ),
      status: obj(
        {
          conditions: arr(conditionSchema, { maxItems: MAX_CONDITIONS, description: 'Observations; type Ready is True when the probes pass.' }),
          proxy: proxyStatusSchema,
        },
        undefined,
        { description: 'Observed state, written through the status subresource.' },
      ),
    },
    ['spec'],
    'An ExternalWorkload is a workload outside Kubernetes (a VM or host) enrolled in the mesh.',
  );
}

/**
 * Also refuses what no cluster state could make valid (docs/adr/0016): an identity of another
 * namespace, the control plane's DNS names. The identity service enforces the rest at issuance.
 */
function validateMeshTLS(m: unknown, path: string, namespace: string | undefined): FieldCause[] {
  const out: FieldCause[] = [];
  const meshTLS = asRecord(m);
  if (typeof meshTLS.identity === 'string' && meshTLS.identity) {
    const errs = spiffeId(meshTLS.identity);
    for (const e of errs) out.push(invalid(child(path, 'identity'), meshTLS.identity, e));
    const owner = identityNamespace(meshTLS.identity);
    if (!errs.length && owner !== undefined && namespace && owner !== namespace) {
      out.push(invalid(child(path, 'identity'), meshTLS.identity, `is an identity of namespace ${owner}; a workload may only claim identities of its own namespace (spiffe://<trust-domain>/ns/${namespace}/...) or a free-form one`));
    }
  }
  if (typeof meshTLS.serverName === 'string' && meshTLS.serverName) {
    const errs = dns1123Subdomain(meshTLS.serverName);
    for (const e of errs) out.push(invalid(child(path, 'serverName'), meshTLS.serverName, e));
    if (!errs.length && isReservedServerName(meshTLS.serverName)) {
      out.push(invalid(child(path, 'serverName'), meshTLS.serverName, `is a name of the control plane (localhost, *.${CONTROL_PLANE_NAMESPACE}.svc.${CLUSTER_DOMAIN}); choose a name under ${namespace ?? '<namespace>'}.svc.${CLUSTER_DOMAIN}`));
    }
  }
  return out;
}

export function validateProbes(probes: unknown, path: string): FieldCause[] {
  const out: FieldCause[] = [];
  asArray(probes).forEach((raw, i) => {
    const p = asRecord(raw);
    const pp = index(path, i);
    if (typeof p.path === 'string' && !p.path.startsWith('/')) out.push(invalid(child(pp, 'path'), p.path, 'must be an absolute path starting with "/"'));
    for (const field of ['initialDelay', 'period', 'timeout']) {
      const v = p[field];
      if (typeof v === 'string') for (const e of goDuration(v)) out.push(invalid(child(pp, field), v, e));
    }
  });
  return out;
}

function validateWorkloadIPs(ips: unknown, path: string): FieldCause[] {
  const out: FieldCause[] = [];
  const seen = new Map<number, number>();
  asArray(ips).forEach((raw, i) => {
    const ip = asRecord(raw).ip;
    const field = child(index(path, i), 'ip');
    if (typeof ip !== 'string') return;
    const errs = ipAddress(ip);
    if (errs.length) return out.push(...errs.map((e) => invalid(field, ip, e)));
    const family = ipFamily(ip);
    if (seen.has(family)) out.push(invalid(field, ip, `at most one IPv${family} address is allowed (${path}[${seen.get(family)}] is IPv${family} already)`));
    else seen.set(family, i);
  });
  return out;
}

/** Labels and annotations that reference other objects must name them validly. */
function validateReferences(o: KubeObject): FieldCause[] {
  const out: FieldCause[] = [];
  const group = o.metadata.labels?.[GROUP_LABEL];
  if (group) for (const e of dns1123Subdomain(group)) out.push(invalid(`metadata.labels[${GROUP_LABEL}]`, group, e));
  const sa = o.metadata.annotations?.[SERVICE_ACCOUNT_ANNOTATION];
  if (sa !== undefined) for (const e of dns1123Subdomain(sa)) out.push(invalid(`metadata.annotations[${SERVICE_ACCOUNT_ANNOTATION}]`, sa, e));
  return out;
}

function validateExternalWorkload(o: KubeObject): FieldCause[] {
  const spec = asRecord(o.spec);
  const meshKey = o.apiVersion?.endsWith('/v1alpha1') ? 'meshTls' : 'meshTLS';
  return [
    ...validateObjectMeta(o),
    ...validateReferences(o),
    ...validateMeshTLS(spec[meshKey], `spec.${meshKey}`, o.metadata.namespace),
    ...validateWorkloadIPs(spec.workloadIPs, 'spec.workloadIPs'),
    ...validatePortList(spec.ports as never, 'spec.ports'),
    ...validateProbes(spec.probes, 'spec.probes'),
  ];
}

/** v1alpha1 spells the TLS block `meshTls`; v1beta1 `meshTLS`. Everything else is shared. */
export function convertExternalWorkload(o: KubeObject, toVersion: string): KubeObject {
  const out: KubeObject = { ...o, apiVersion: `${WORKLOAD_GROUP}/${toVersion}` };
  const [from, to] = toVersion === 'v1alpha1' ? ['meshTLS', 'meshTls'] : ['meshTls', 'meshTLS'];
  const spec = asRecord(o.spec);
  if (spec[from] !== undefined) {
    // A new spec object (the input is not modified); the TLS block itself is shared, unchanged.
    const { [from]: block, ...rest } = spec;
    out.spec = { ...rest, [to]: block };
  }
  return out;
}

const CONDITION_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** status.conditions: one entry per type; reasons CamelCase like metav1.Condition. */
export function validateConditions(conditions: unknown, path: string): FieldCause[] {
  const out: FieldCause[] = [];
  const seen = new Set<string>();
  asArray(conditions).forEach((raw, i) => {
    const c = asRecord(raw);
    const p = index(path, i);
    if (typeof c.type === 'string') {
      if (seen.has(c.type)) out.push(duplicate(child(p, 'type'), c.type));
      seen.add(c.type);
    }
    if (typeof c.reason === 'string' && c.reason !== '' && !CONDITION_REASON.test(c.reason)) {
      out.push(invalid(child(p, 'reason'), c.reason, `a condition reason must start with a letter and contain only letters, digits, '_', ',' and ':' (regex used for validation is '${CONDITION_REASON.source}')`));
    }
  });
  return out;
}

function workloadIdentityCell(o: KubeObject): string {
  const own = pick(o, 'spec.meshTLS.identity') ?? pick(o, 'spec.meshTls.identity');
  if (typeof own === 'string' && own) return own;
  const group = o.metadata.labels?.[GROUP_LABEL];
  if (group) return `(group ${group})`;
  return effectiveWorkload(o as never).identity;
}

export const externalWorkloadType = declareResource({
  group: WORKLOAD_GROUP,
  kind: 'ExternalWorkload',
  shortNames: ['ew'],
  categories: ['external'],
  versions: [
    { name: 'v1beta1', schema: externalWorkloadSchema('meshTLS'), served: true, storage: true },
    { name: 'v1alpha1', schema: externalWorkloadSchema('meshTls'), served: true, storage: false },
  ],
  statusSubresource: true,
  builtin: false,
  convert: convertExternalWorkload,
  validate: validateExternalWorkload,
  validateStatus: (o) => validateConditions(asRecord(o.status).conditions, 'status.conditions'),
  table: {
    columns: [
      col('Identity', { description: 'SPIFFE identity (own, from its group, or the default).' }),
      col('IPs', { description: 'Workload IPs.' }),
      col('Ready', { description: 'The Ready condition.' }),
      col('Group', { priority: 1, description: 'The WorkloadGroup it belongs to.' }),
      col('Service-Account', { priority: 1, description: 'The ServiceAccount it is bound to (outpost.io/service-account).' }),
    ],
    cells: (o) => [
      workloadIdentityCell(o),
      asArray(pick(o, 'spec.workloadIPs')).map((w) => asRecord(w).ip).filter(Boolean).join(',') || NONE,
      conditionStatus(o, 'Ready'),
      o.metadata.labels?.[GROUP_LABEL] || NONE,
      o.metadata.annotations?.[SERVICE_ACCOUNT_ANNOTATION] || NONE,
    ],
  },
});

const workloadGroupSchema: Schema = rootSchema(
  {
    spec: obj(
      {
        template: obj(
          {
            metadata: obj({ labels: stringMap({ description: 'Labels every member gets (its own labels win).' }), annotations: stringMap({ description: 'Annotations every member gets.' }) }),
            spec: obj({ ports: arr(portSchema, { maxItems: MAX_PORTS, description: 'Ports every member serves.' }), probes: arr(probeSchema, { maxItems: MAX_PROBES, description: 'Probes of members that define none.' }) }),
          },
          undefined,
          { description: 'What every member inherits.' },
        ),
        meshTLS: { ...meshTLSSchema, description: 'Identity shared by members that have no spec.meshTLS of their own.' },
      },
      undefined,
      { description: 'The template and identity of the group.' },
    ),
    status: obj({
      members: int32({ minimum: 0, description: 'ExternalWorkloads labelled workloadGroup=<name>.' }),
      readyMembers: int32({ minimum: 0, description: 'Members whose Ready condition is True.' }),
      observedGeneration: { type: 'integer', format: 'int64' },
      conditions: arr(conditionSchema, { maxItems: MAX_CONDITIONS }),
    }),
  },
  ['spec'],
  'A WorkloadGroup is a template (labels, ports, probes, identity) shared by the ExternalWorkloads labelled workloadGroup=<name>.',
);

function validateWorkloadGroup(o: KubeObject): FieldCause[] {
  const spec = asRecord(o.spec);
  const tmpl = asRecord(spec.template);
  const tmplMeta = asRecord(tmpl.metadata);
  const tmplSpec = asRecord(tmpl.spec);
  const out = [
    ...validateObjectMeta(o),
    ...validateReferences(o),
    ...validateMeshTLS(spec.meshTLS, 'spec.meshTLS', o.metadata.namespace),
    ...validatePortList(tmplSpec.ports as never, 'spec.template.spec.ports'),
    ...validateProbes(tmplSpec.probes, 'spec.template.spec.probes'),
  ];
  const metaProbe: KubeObject = { metadata: { name: 'x', labels: tmplMeta.labels as never, annotations: tmplMeta.annotations as never } };
  for (const c of validateObjectMeta(metaProbe)) out.push({ ...c, field: c.field.replace(/^metadata\./, 'spec.template.metadata.') });
  return out;
}

function groupIdentityCell(o: KubeObject): string {
  const own = pick(o, 'spec.meshTLS.identity');
  if (typeof own === 'string' && own) return own;
  const sa = o.metadata.annotations?.[SERVICE_ACCOUNT_ANNOTATION];
  return sa ? serviceAccountIdentity(o.metadata.namespace ?? 'default', sa) : NONE;
}

export const workloadGroupType = declareResource({
  group: WORKLOAD_GROUP,
  kind: 'WorkloadGroup',
  shortNames: ['wg'],
  categories: ['external'],
  versions: [{ name: 'v1beta1', schema: workloadGroupSchema, served: true, storage: true }],
  statusSubresource: true,
  builtin: false,
  validate: validateWorkloadGroup,
  validateStatus(o) {
    const status = asRecord(o.status);
    const out = validateConditions(status.conditions, 'status.conditions');
    if (typeof status.members === 'number' && typeof status.readyMembers === 'number' && status.readyMembers > status.members) {
      out.push(invalid('status.readyMembers', status.readyMembers, `must not exceed status.members (${status.members})`));
    }
    return out;
  },
  table: {
    columns: [col('Identity'), col('Members', { type: 'integer' }), col('Ready')],
    cells: (o) => {
      const status = asRecord(o.status);
      const members = typeof status.members === 'number' ? status.members : 0;
      const ready = typeof status.readyMembers === 'number' ? status.readyMembers : 0;
      return [groupIdentityCell(o), members, `${ready}/${members}`];
    },
  },
});

export const WORKLOAD_TYPES: ResourceType[] = [externalWorkloadType, workloadGroupType];
