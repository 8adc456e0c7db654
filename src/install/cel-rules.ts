// The semantic checks of the embedded API (the `validate` functions of src/apiserver/resources)
// that a structural schema cannot express, as CEL `x-kubernetes-validations` for the CRDs. Each
// rule names the embedded check it mirrors; test/kubernetes/crd-validation.test.ts applies the
// same bad manifests to both APIs and requires the same field to be named. What CEL cannot see
// (metadata labels and annotations, whether a regular expression compiles) is listed in
// EMBEDDED_ONLY and in docs/kubernetes.md.
const DNS1123_SUBDOMAIN = String.raw`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`;
const DNS1123_LABEL = String.raw`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`;
const GO_DURATION = String.raw`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`;
const SPIFFE = String.raw`^spiffe://[a-z0-9._-]+(/[A-Za-z0-9._-]+)+$`;
const DOT_SEGMENT = String.raw`/\.\.?(/|$)`;
const IDENTITY_NAME = String.raw`^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`;
const CONDITION_REASON = String.raw`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`;

/** `r'…'` CEL raw string: the regular expression is written once, without escaping. */
const raw = (re: string) => `r'${re}'`;
const iana = (v: string) => `${v}.matches(r'^[-a-z0-9]+$') && ${v}.matches(r'[a-z]') && !${v}.contains('--') && !${v}.startsWith('-') && !${v}.endsWith('-')`;
const spiffe = (v: string) => `${v}.matches(${raw(SPIFFE)}) && !${v}.matches(${raw(DOT_SEGMENT)})`;
const identityMatch = (v: string) => `${v} == '*' || (${v}.startsWith('spiffe://') ? (${spiffe(v)}) : ${v}.matches(${raw(IDENTITY_NAME)}))`;
const duration = (v: string) => `${v} == '0' || ${v}.matches(${raw(GO_DURATION)})`;

export interface CelRule {
  kind: string;
  /** Versions the rule applies to (all when absent). */
  versions?: string[];
  /** Where the rule sits: a dotted schema path, `[]` stepping into array items (`spec.ports[].name`). */
  at: string;
  /** The CEL expression; absent for a rule that only bounds a field (maxLength/maxItems, which keep the CEL cost estimate within the API server's budget). */
  rule?: string;
  message: string;
  /** The field reported, relative to `at` (`.name`); CEL cannot name a list index. */
  fieldPath?: string;
  reason?: 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueInvalid';
  maxLength?: number;
  maxItems?: number;
  /** The embedded check it mirrors (file: function), for readers. */
  mirrors: string;
}

const EW = 'ExternalWorkload';
const meshRules = (versions: string[], key: string): CelRule[] => [
  { kind: EW, versions, at: `spec.${key}.identity`, rule: spiffe('self'), message: 'must be a SPIFFE ID of the form spiffe://<trust-domain>/<path> (e.g. spiffe://cluster.local/ns/default/sa/web)', mirrors: 'workload.ts: validateMeshTLS' },
  { kind: EW, versions, at: `spec.${key}.serverName`, rule: `self.matches(${raw(DNS1123_SUBDOMAIN)})`, message: 'must be a lowercase RFC 1123 subdomain', mirrors: 'workload.ts: validateMeshTLS' },
];

const portListRules = (kind: string, at: string): CelRule[] => [
  { kind, at: `${at}[].name`, rule: iana('self'), maxLength: 15, message: 'must be an IANA_SVC_NAME: lower case letters, digits and single hyphens, at least one letter, at most 15 characters', mirrors: 'meta.ts: validatePortList' },
  {
    kind, at, maxItems: 64,
    rule: `self.all(p, !has(p.name) || self.filter(q, has(q.name) && q.name == p.name).size() == 1)`,
    message: 'port names must be unique', mirrors: 'meta.ts: validatePortList',
  },
  {
    kind, at,
    rule: `self.all(p, self.filter(q, q.port == p.port && q.protocol == p.protocol).size() == 1)`,
    message: 'port and protocol pairs must be unique', mirrors: 'meta.ts: validatePortList',
  },
];

const probeRules = (kind: string, at: string): CelRule[] => [
  { kind, at: `${at}[].path`, rule: `self.startsWith('/')`, maxLength: 2048, message: 'must be an absolute path starting with "/"', mirrors: 'workload.ts: validateProbes' },
  ...['initialDelay', 'period', 'timeout'].map((f): CelRule => ({ kind, at: `${at}[].${f}`, rule: duration('self'), maxLength: 64, message: 'must be a duration such as "10s", "1m30s" or "500ms"', mirrors: 'workload.ts: validateProbes' })),
];

const conditionRules = (kind: string): CelRule[] => [
  { kind, at: 'status.conditions[].reason', rule: `self == '' || self.matches(${raw(CONDITION_REASON)})`, message: "a condition reason must start with a letter and contain only letters, digits, '_', ',' and ':'", mirrors: 'workload.ts: validateConditions' },
  { kind, at: 'status.conditions', maxItems: 32, rule: 'self.all(c, self.filter(d, d.type == c.type).size() == 1)', message: 'condition types must be unique', mirrors: 'workload.ts: validateConditions' },
];

const selectorRules = (kind: string, at: string, versions?: string[]): CelRule[] => [
  {
    kind, versions, at: `${at}.matchExpressions[]`, fieldPath: '.values',
    rule: `self.operator in ['In', 'NotIn'] ? (has(self.values) && self.values.size() > 0) : !(has(self.values) && self.values.size() > 0)`,
    message: "values must be given for operator In or NotIn, and only for them", mirrors: 'kube/selectors.ts: validateLabelSelector',
  },
];

const networkRules = (kind: string, at: string): CelRule[] => [
  { kind, at: `${at}[].cidr`, rule: 'isCIDR(self)', maxLength: 64, message: 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)', mirrors: 'policy.ts: validateNetworks' },
  { kind, at: `${at}[].except[]`, rule: 'isCIDR(self) || isIP(self)', maxLength: 64, message: 'must be a valid CIDR value or IP address', mirrors: 'policy.ts: validateNetworks' },
];

const identityRules = (kind: string, at: string): CelRule[] => [
  { kind, at: `${at}[]`, rule: identityMatch('self'), maxLength: 2048, message: 'must be "*", a SPIFFE ID, or a DNS-like identity (a leading "*." matches a whole domain)', mirrors: 'policy.ts: validateIdentities' },
];

export const CEL_RULES: CelRule[] = [
  // workload.linkerd.io
  ...meshRules(['v1beta1'], 'meshTLS'),
  ...meshRules(['v1alpha1'], 'meshTls'),
  { kind: EW, at: 'spec.workloadIPs[].ip', rule: 'isIP(self)', maxLength: 64, message: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)', mirrors: 'workload.ts: validateWorkloadIPs' },
  {
    kind: EW, at: 'spec.workloadIPs',
    rule: 'self.size() < 2 || !isIP(self[0].ip) || !isIP(self[1].ip) || ip(self[0].ip).family() != ip(self[1].ip).family()',
    message: 'at most one IPv4 and one IPv6 address are allowed', mirrors: 'workload.ts: validateWorkloadIPs',
  },
  ...portListRules(EW, 'spec.ports'),
  ...probeRules(EW, 'spec.probes'),
  ...conditionRules(EW),
  { kind: 'WorkloadGroup', at: 'spec.meshTLS.identity', rule: spiffe('self'), message: 'must be a SPIFFE ID of the form spiffe://<trust-domain>/<path>', mirrors: 'workload.ts: validateMeshTLS' },
  { kind: 'WorkloadGroup', at: 'spec.meshTLS.serverName', rule: `self.matches(${raw(DNS1123_SUBDOMAIN)})`, message: 'must be a lowercase RFC 1123 subdomain', mirrors: 'workload.ts: validateMeshTLS' },
  ...portListRules('WorkloadGroup', 'spec.template.spec.ports'),
  ...probeRules('WorkloadGroup', 'spec.template.spec.probes'),
  ...conditionRules('WorkloadGroup'),
  { kind: 'WorkloadGroup', at: 'status', fieldPath: '.readyMembers', rule: '!has(self.members) || !has(self.readyMembers) || self.readyMembers <= self.members', message: 'must not exceed status.members', mirrors: 'workload.ts: workloadGroupType.validateStatus' },

  // policy.linkerd.io
  {
    kind: 'Server', at: 'spec.port', maxLength: 15,
    rule: `type(self) == int ? (self >= 1 && self <= 65535) : (self.matches(r'^[0-9]+$') ? (self.size() <= 5 && int(self) >= 1 && int(self) <= 65535) : (${iana('self')}))`,
    message: 'must be a port number between 1 and 65535 or an IANA port name', mirrors: 'meta.ts: validatePortNumberOrName',
  },
  { kind: 'Server', versions: ['v1beta3', 'v1beta2'], at: 'spec', fieldPath: '.externalWorkloadSelector', reason: 'FieldValueForbidden', rule: '!(has(self.podSelector) && has(self.externalWorkloadSelector))', message: 'may not be set together with spec.podSelector', mirrors: 'policy.ts: validateServer' },
  { kind: 'Server', versions: ['v1beta3', 'v1beta2'], at: 'spec', reason: 'FieldValueRequired', rule: 'has(self.podSelector) || has(self.externalWorkloadSelector)', message: 'one of spec.podSelector or spec.externalWorkloadSelector is required', mirrors: 'policy.ts: validateServer' },
  ...selectorRules('Server', 'spec.podSelector'),
  ...selectorRules('Server', 'spec.externalWorkloadSelector', ['v1beta3', 'v1beta2']),
  { kind: 'ServerAuthorization', at: 'spec.server', fieldPath: '.selector', reason: 'FieldValueForbidden', rule: '!(has(self.name) && has(self.selector))', message: 'only one of spec.server.name or spec.server.selector may be set', mirrors: 'policy.ts: validateServerAuthorization' },
  { kind: 'ServerAuthorization', at: 'spec.server', fieldPath: '.name', reason: 'FieldValueRequired', rule: 'has(self.name) || has(self.selector)', message: 'one of spec.server.name or spec.server.selector is required', mirrors: 'policy.ts: validateServerAuthorization' },
  ...selectorRules('ServerAuthorization', 'spec.server.selector'),
  { kind: 'ServerAuthorization', at: 'spec.client', reason: 'FieldValueRequired', rule: '(has(self.unauthenticated) && self.unauthenticated) || has(self.meshTLS) || has(self.networks)', message: 'one of spec.client.meshTLS, spec.client.unauthenticated or spec.client.networks is required', mirrors: 'policy.ts: validateServerAuthorization' },
  { kind: 'ServerAuthorization', at: 'spec.client', fieldPath: '.meshTLS', reason: 'FieldValueForbidden', rule: '!(has(self.unauthenticated) && self.unauthenticated && has(self.meshTLS))', message: 'may not be set when spec.client.unauthenticated is true', mirrors: 'policy.ts: validateServerAuthorization' },
  ...networkRules('ServerAuthorization', 'spec.client.networks'),
  ...identityRules('ServerAuthorization', 'spec.client.meshTLS.identities'),
  { kind: 'AuthorizationPolicy', at: 'spec.targetRef.kind', rule: "self in ['Server', 'HTTPRoute', 'GRPCRoute', 'Namespace']", message: 'must be one of Server, HTTPRoute, GRPCRoute, Namespace', mirrors: 'policy.ts: validateAuthorizationPolicy' },
  { kind: 'AuthorizationPolicy', at: 'spec.requiredAuthenticationRefs[].kind', rule: "self in ['MeshTLSAuthentication', 'NetworkAuthentication', 'ServiceAccount']", message: 'must be one of MeshTLSAuthentication, NetworkAuthentication, ServiceAccount', mirrors: 'policy.ts: validateAuthorizationPolicy' },
  { kind: 'AuthorizationPolicy', at: 'spec.requiredAuthenticationRefs[]', fieldPath: '.name', reason: 'FieldValueRequired', rule: "self.kind != 'ServiceAccount' || (has(self.name) && self.name != '')", message: 'a ServiceAccount reference needs a name', mirrors: 'policy.ts: validateAuthorizationPolicy' },
  ...identityRules('MeshTLSAuthentication', 'spec.identities'),
  { kind: 'MeshTLSAuthentication', at: 'spec', fieldPath: '.identityRefs', reason: 'FieldValueForbidden', rule: '!(has(self.identities) && has(self.identityRefs))', message: 'only one of spec.identities or spec.identityRefs may be set', mirrors: 'policy.ts: validateMeshTLSAuthentication' },
  { kind: 'MeshTLSAuthentication', at: 'spec', fieldPath: '.identities', reason: 'FieldValueRequired', rule: 'has(self.identities) || has(self.identityRefs)', message: 'one of spec.identities or spec.identityRefs is required', mirrors: 'policy.ts: validateMeshTLSAuthentication' },
  { kind: 'MeshTLSAuthentication', at: 'spec.identityRefs[]', fieldPath: '.name', rule: `self.kind != 'ServiceAccount' || !has(self.name) || self.name.matches(${raw(DNS1123_LABEL)})`, message: 'a ServiceAccount name must be a lowercase RFC 1123 label', mirrors: 'policy.ts: validateMeshTLSAuthentication' },
  ...networkRules('NetworkAuthentication', 'spec.networks'),
  {
    kind: 'HTTPRoute', at: 'spec.rules[].matches[].path', fieldPath: '.value',
    rule: "!has(self.value) || self.type == 'RegularExpression' || self.value.startsWith('/')",
    message: 'must be an absolute path starting with "/"', mirrors: 'httproute.ts: validateHttpRoute',
  },
  ...['request', 'backendRequest'].map((f): CelRule => ({ kind: 'HTTPRoute', at: `spec.rules[].timeouts.${f}`, rule: duration('self'), maxLength: 64, message: 'must be a duration such as "10s", "1m30s" or "500ms"', mirrors: 'httproute.ts: validateHttpRoute' })),
];

/** Embedded checks the CRDs do not carry, and why (docs/kubernetes.md lists them too). */
export const EMBEDDED_ONLY: { kind: string; field: string; why: string }[] = [
  { kind: 'ExternalWorkload, WorkloadGroup', field: 'metadata.labels[workloadGroup], metadata.annotations[outpost.io/service-account]', why: 'CEL in a CRD sees metadata.name only; the names are checked when used (identity refuses an unknown group or ServiceAccount)' },
  { kind: 'HTTPRoute', field: 'spec.rules[].matches[] RegularExpression values', why: 'CEL has no "compiles as a regular expression" function; the proxy ignores a match that does not compile' },
];

export function rulesFor(kind: string, version: string): CelRule[] {
  return CEL_RULES.filter((r) => r.kind === kind && (!r.versions || r.versions.includes(version)));
}
