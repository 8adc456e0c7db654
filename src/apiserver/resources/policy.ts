// policy.linkerd.io: Server (v1beta3 stored; v1beta2, v1beta1 served), ServerAuthorization,
// AuthorizationPolicy, MeshTLSAuthentication and NetworkAuthentication. HTTPRoute is in httproute.ts.
import type { KubeObject } from '../../store/types.js';
import type { FieldCause, ResourceType, Schema } from './types.js';
import { arr, bool, labelSelectorSchema, obj, rootSchema, str, strings, targetRefSchema, intOrString } from '../schema/builders.js';
import { child, forbidden, index, invalid, required } from '../../kube/field-errors.js';
import { cidr, dns1123Label, identityMatch } from '../../kube/formats.js';
import { validateLabelSelector } from '../../kube/selectors.js';
import { validateObjectMeta, validatePortNumberOrName } from '../schema/meta.js';
import { declareResource, NONE, asArray, asRecord, col, formatLabelSelector, pick, relabelVersion } from './common.js';

export const POLICY_GROUP = 'policy.linkerd.io';
export const PROXY_PROTOCOLS = ['unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS'];
export const ACCESS_POLICIES = ['deny', 'audit', 'all-authenticated', 'all-unauthenticated', 'cluster-authenticated', 'cluster-unauthenticated'];
const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

function serverSchema(version: 'v1beta1' | 'v1beta2' | 'v1beta3'): Schema {
  const spec: Record<string, Schema> = {
    podSelector: { ...labelSelectorSchema, description: 'Selects pods in the same namespace (matchLabels and matchExpressions are ANDed; empty selects all).' },
    port: intOrString({ description: 'A port number (1-65535) or an IANA port name of the selected workloads.' }),
    proxyProtocol: str({ enum: PROXY_PROTOCOLS, default: 'unknown', description: 'Protocol detection for inbound connections.' }),
  };
  if (version !== 'v1beta1') spec.externalWorkloadSelector = { ...labelSelectorSchema, description: 'Selects ExternalWorkloads in the same namespace.' };
  if (version === 'v1beta3') spec.accessPolicy = str({ enum: ACCESS_POLICIES, default: 'deny', description: 'Policy for traffic no authorization matches.' });
  return rootSchema({ spec: obj(spec, version === 'v1beta1' ? ['podSelector', 'port'] : ['port']) }, ['spec'], 'A Server selects a port on a set of workloads, to which authorizations apply.');
}

function validateServer(o: KubeObject): FieldCause[] {
  const spec = asRecord(o.spec);
  const out = [...validateObjectMeta(o), ...validatePortNumberOrName(spec.port, 'spec.port')];
  const hasPods = spec.podSelector !== undefined && spec.podSelector !== null;
  const hasExternal = spec.externalWorkloadSelector !== undefined && spec.externalWorkloadSelector !== null;
  if (hasPods && hasExternal) out.push(forbidden('spec.externalWorkloadSelector', 'may not be set together with spec.podSelector'));
  if (!hasPods && !hasExternal) out.push(required('spec', 'one of spec.podSelector or spec.externalWorkloadSelector is required'));
  out.push(...validateLabelSelector(spec.podSelector as never, 'spec.podSelector'));
  out.push(...validateLabelSelector(spec.externalWorkloadSelector as never, 'spec.externalWorkloadSelector'));
  return out;
}

export const serverType = declareResource({
  group: POLICY_GROUP,
  kind: 'Server',
  shortNames: ['srv'],
  categories: ['policy'],
  versions: [
    { name: 'v1beta3', schema: serverSchema('v1beta3'), served: true, storage: true },
    { name: 'v1beta2', schema: serverSchema('v1beta2'), served: true, storage: false },
    { name: 'v1beta1', schema: serverSchema('v1beta1'), served: true, storage: false },
  ],
  builtin: false,
  convert: relabelVersion(POLICY_GROUP),
  validate: validateServer,
  table: {
    columns: [col('Port'), col('Protocol'), col('Access Policy', { priority: 1 }), col('Selector', { priority: 1 })],
    cells: (o) => {
      const spec = asRecord(o.spec);
      return [
        spec.port === undefined ? NONE : String(spec.port),
        spec.proxyProtocol ?? 'unknown',
        spec.accessPolicy ?? 'deny',
        formatLabelSelector(spec.externalWorkloadSelector ?? spec.podSelector),
      ];
    },
  },
});

// List bounds keep the CRDs' CEL rules within a real API server's cost budget (src/install/cel-rules.ts).
const MAX_LIST = 64;
const identitiesSchema = (extra: Partial<Schema> = {}) => arr(str({ maxLength: 2048 }), { maxItems: MAX_LIST, ...extra });
const networksSchema = arr(obj({ cidr: str(), except: strings({ maxItems: MAX_LIST }) }, ['cidr']), { maxItems: MAX_LIST });
const serviceAccountRefSchema = obj({ name: str({ pattern: DNS_LABEL_PATTERN }), namespace: str({ pattern: DNS_LABEL_PATTERN }) }, ['name']);

const serverAuthorizationSchema = rootSchema(
  {
    spec: obj(
      {
        server: obj({ name: str({ pattern: DNS_LABEL_PATTERN }), selector: labelSelectorSchema }),
        client: obj({
          networks: networksSchema,
          unauthenticated: bool(),
          meshTLS: obj({ unauthenticatedTLS: bool(), identities: identitiesSchema(), serviceAccounts: arr(serviceAccountRefSchema, { maxItems: MAX_LIST }) }),
        }),
      },
      ['server', 'client'],
    ),
  },
  ['spec'],
  'Authorizes clients to reach the Servers it names or selects.',
);

function validateNetworks(networks: unknown, path: string): FieldCause[] {
  const out: FieldCause[] = [];
  asArray(networks).forEach((raw, i) => {
    const n = asRecord(raw);
    const p = index(path, i);
    if (typeof n.cidr === 'string') for (const e of cidr(n.cidr)) out.push(invalid(child(p, 'cidr'), n.cidr, e));
    asArray(n.except).forEach((ex, j) => {
      if (typeof ex === 'string') for (const e of cidr(ex.includes('/') ? ex : `${ex}/${ex.includes(':') ? 128 : 32}`)) out.push(invalid(index(child(p, 'except'), j), ex, e));
    });
  });
  return out;
}

function validateIdentities(ids: unknown, path: string): FieldCause[] {
  const out: FieldCause[] = [];
  asArray(ids).forEach((id, i) => {
    if (typeof id === 'string') for (const e of identityMatch(id)) out.push(invalid(index(path, i), id, e));
  });
  return out;
}

function validateServerAuthorization(o: KubeObject): FieldCause[] {
  const spec = asRecord(o.spec);
  const server = asRecord(spec.server);
  const client = asRecord(spec.client);
  const meshTLS = asRecord(client.meshTLS);
  const out = [...validateObjectMeta(o)];
  if (spec.server !== undefined) {
    if (server.name !== undefined && server.selector !== undefined) out.push(forbidden('spec.server.selector', 'only one of spec.server.name or spec.server.selector may be set'));
    if (server.name === undefined && server.selector === undefined) out.push(required('spec.server.name', 'one of spec.server.name or spec.server.selector is required'));
    out.push(...validateLabelSelector(server.selector as never, 'spec.server.selector'));
  }
  if (spec.client !== undefined && client.unauthenticated !== true && client.meshTLS === undefined && client.networks === undefined) {
    out.push(required('spec.client', 'one of spec.client.meshTLS, spec.client.unauthenticated or spec.client.networks is required'));
  }
  if (client.unauthenticated === true && client.meshTLS !== undefined) out.push(forbidden('spec.client.meshTLS', 'may not be set when spec.client.unauthenticated is true'));
  out.push(...validateNetworks(client.networks, 'spec.client.networks'));
  out.push(...validateIdentities(meshTLS.identities, 'spec.client.meshTLS.identities'));
  return out;
}

export const serverAuthorizationType = declareResource({
  group: POLICY_GROUP,
  kind: 'ServerAuthorization',
  shortNames: ['saz'],
  categories: ['policy'],
  versions: [{ name: 'v1beta1', schema: serverAuthorizationSchema, served: true, storage: true }],
  builtin: false,
  validate: validateServerAuthorization,
  table: {
    columns: [col('Server')],
    cells: (o) => [(pick(o, 'spec.server.name') as string | undefined) ?? formatLabelSelector(pick(o, 'spec.server.selector'))],
  },
});

const authorizationPolicySchema = rootSchema(
  {
    spec: obj(
      {
        targetRef: targetRefSchema(),
        requiredAuthenticationRefs: arr(targetRefSchema(['kind']), { maxItems: 16 }),
      },
      ['targetRef', 'requiredAuthenticationRefs'],
    ),
  },
  ['spec'],
  'Authorizes clients that satisfy every referenced authentication to reach the target (a Server, an HTTPRoute or a Namespace).',
);

const AUTHORIZATION_TARGETS = ['Server', 'HTTPRoute', 'GRPCRoute', 'Namespace'];
const AUTHENTICATION_KINDS = ['MeshTLSAuthentication', 'NetworkAuthentication', 'ServiceAccount'];

function validateAuthorizationPolicy(o: KubeObject): FieldCause[] {
  const spec = asRecord(o.spec);
  const out = [...validateObjectMeta(o)];
  const target = asRecord(spec.targetRef);
  if (typeof target.kind === 'string' && !AUTHORIZATION_TARGETS.includes(target.kind)) {
    out.push(invalid('spec.targetRef.kind', target.kind, `must be one of ${AUTHORIZATION_TARGETS.join(', ')}`));
  }
  asArray(spec.requiredAuthenticationRefs).forEach((raw, i) => {
    const ref = asRecord(raw);
    const p = index('spec.requiredAuthenticationRefs', i);
    if (typeof ref.kind === 'string' && !AUTHENTICATION_KINDS.includes(ref.kind)) out.push(invalid(child(p, 'kind'), ref.kind, `must be one of ${AUTHENTICATION_KINDS.join(', ')}`));
    if (ref.kind === 'ServiceAccount' && !ref.name) out.push(required(child(p, 'name'), 'a ServiceAccount reference needs a name'));
  });
  return out;
}

export const authorizationPolicyType = declareResource({
  group: POLICY_GROUP,
  kind: 'AuthorizationPolicy',
  plural: 'authorizationpolicies',
  shortNames: ['ap'],
  categories: ['policy'],
  versions: [{ name: 'v1alpha1', schema: authorizationPolicySchema, served: true, storage: true }],
  builtin: false,
  validate: validateAuthorizationPolicy,
  table: {
    columns: [col('Target'), col('Authentications')],
    cells: (o) => {
      const t = asRecord(pick(o, 'spec.targetRef'));
      const refs = asArray(pick(o, 'spec.requiredAuthenticationRefs')).map((r) => `${asRecord(r).kind}/${asRecord(r).name ?? '*'}`);
      return [`${t.kind ?? ''}/${t.name ?? ''}`, refs.join(',') || NONE];
    },
  },
});

const meshTLSAuthenticationSchema = rootSchema(
  {
    spec: obj({
      identities: identitiesSchema({ description: 'Client identities: SPIFFE ids, DNS-like names, "*.<domain>" or "*".' }),
      identityRefs: arr(targetRefSchema(['kind']), { maxItems: MAX_LIST }),
    }),
  },
  ['spec'],
  'A set of authenticated client identities, referenced by AuthorizationPolicies.',
);

function validateMeshTLSAuthentication(o: KubeObject): FieldCause[] {
  const spec = asRecord(o.spec);
  const out = [...validateObjectMeta(o), ...validateIdentities(spec.identities, 'spec.identities')];
  if (spec.identities !== undefined && spec.identityRefs !== undefined) out.push(forbidden('spec.identityRefs', 'only one of spec.identities or spec.identityRefs may be set'));
  if (spec.identities === undefined && spec.identityRefs === undefined) out.push(required('spec.identities', 'one of spec.identities or spec.identityRefs is required'));
  asArray(spec.identityRefs).forEach((raw, i) => {
    const ref = asRecord(raw);
    if (ref.kind === 'ServiceAccount' && typeof ref.name === 'string') {
      for (const e of dns1123Label(ref.name)) out.push(invalid(child(index('spec.identityRefs', i), 'name'), ref.name, e));
    }
  });
  return out;
}

export const meshTLSAuthenticationType = declareResource({
  group: POLICY_GROUP,
  kind: 'MeshTLSAuthentication',
  shortNames: ['meshtlsauthn'],
  categories: ['policy'],
  versions: [{ name: 'v1alpha1', schema: meshTLSAuthenticationSchema, served: true, storage: true }],
  builtin: false,
  validate: validateMeshTLSAuthentication,
  table: {
    columns: [col('Identities')],
    cells: (o) => {
      const ids = asArray(pick(o, 'spec.identities')).map(String);
      const refs = asArray(pick(o, 'spec.identityRefs')).map((r) => `${asRecord(r).kind}/${asRecord(r).name ?? '*'}`);
      return [[...ids, ...refs].join(',') || NONE];
    },
  },
});

const networkAuthenticationSchema = rootSchema(
  { spec: obj({ networks: networksSchema }, ['networks']) },
  ['spec'],
  'A set of client networks (CIDRs), referenced by AuthorizationPolicies.',
);

export const networkAuthenticationType = declareResource({
  group: POLICY_GROUP,
  kind: 'NetworkAuthentication',
  shortNames: ['netauthn'],
  categories: ['policy'],
  versions: [{ name: 'v1alpha1', schema: networkAuthenticationSchema, served: true, storage: true }],
  builtin: false,
  validate: (o) => [...validateObjectMeta(o), ...validateNetworks(asRecord(o.spec).networks, 'spec.networks')],
  table: {
    columns: [col('Networks')],
    cells: (o) => [asArray(pick(o, 'spec.networks')).map((n) => asRecord(n).cidr).join(',') || NONE],
  },
});

export const POLICY_TYPES: ResourceType[] = [serverType, serverAuthorizationType, authorizationPolicyType, meshTLSAuthenticationType, networkAuthenticationType];
