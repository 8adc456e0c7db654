// The pod mutation shared by `outpost inject --manual` and the injector webhook: adds the Outpost
// proxy as a native sidecar (an init container with restartPolicy Always), the `outpost-init`
// container that installs the capture rules (`outpost proxy-init --pod`), the projected
// ServiceAccount token the proxy exchanges for its certificate, and the annotations Linkerd's
// tools look for. Pure: a pod template in, a new one (or the reason it is left alone) out.
import { createHash } from 'node:crypto';
import { IDENTITY_AUDIENCE_FOR_PODS, type MeshSettings } from './mesh.js';
import { decideInjection, readProxySettings, type ProxySettings } from './annotations.js';

export const PROXY_CONTAINER = 'outpost-proxy';
export const INIT_CONTAINER = 'outpost-init';
export const TOKEN_VOLUME = 'outpost-identity-token';
export const IDENTITY_DIR_VOLUME = 'outpost-identity-end-entity';
export const TOKEN_DIR = '/var/run/secrets/outpost.io/serviceaccount';
export const IDENTITY_DIR = '/var/run/outpost/identity';
/** Sidecars that mean "already meshed": ours, or Linkerd's own. */
const KNOWN_PROXIES = [PROXY_CONTAINER, 'linkerd-proxy'];
export const PORTS = { inbound: 4143, outbound: 4140, admin: 4191, tap: 4190 } as const;

/** Annotations and labels the injection adds (and `uninject` removes). */
export const INJECTED_ANNOTATIONS = ['linkerd.io/proxy-version', 'linkerd.io/created-by', 'linkerd.io/identity-mode', 'linkerd.io/trust-root-sha256', 'outpost.io/identity'] as const;
export const INJECTED_LABELS = ['linkerd.io/control-plane-ns', 'linkerd.io/workload-ns', 'linkerd.io/proxy-deployment', 'linkerd.io/proxy-statefulset', 'linkerd.io/proxy-daemonset', 'linkerd.io/proxy-job', 'linkerd.io/proxy-cronjob', 'linkerd.io/proxy-replicaset'] as const;

export type Json = Record<string, unknown>;
export interface Container extends Json {
  name: string;
  restartPolicy?: string;
}
export interface PodTemplate {
  metadata?: { name?: string; generateName?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[]; [k: string]: unknown };
  spec?: { containers?: Container[]; initContainers?: Container[]; volumes?: Json[]; hostNetwork?: boolean; serviceAccountName?: string; [k: string]: unknown };
}

export interface InjectTarget {
  /** The namespace the pods run in (the object's, the admission request's, or "default"). */
  namespace: string;
  namespaceAnnotations?: Record<string, string>;
  /** The workload that owns the pods (Deployment api-server…), for the linkerd.io/proxy-<kind> label. */
  owner?: { kind: string; name: string };
}

export type InjectOutcome =
  | { result: 'injected'; template: PodTemplate; identity: string }
  | { result: 'skipped'; reason: string }
  | { result: 'already-injected' }
  | { result: 'invalid'; errors: string[] };

export function isInjected(template: PodTemplate): boolean {
  const names = [...(template.spec?.containers ?? []), ...(template.spec?.initContainers ?? [])].map((c) => c.name);
  return names.some((n) => KNOWN_PROXIES.includes(n));
}

/** The SPIFFE identity of a pod: its ServiceAccount's, named as for VMs bound to one (docs/adr/0002). */
export function podIdentity(trustDomain: string, namespace: string, serviceAccount: string | undefined): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount || 'default'}`;
}

export function injectPodTemplate(template: PodTemplate, target: InjectTarget, mesh: MeshSettings): InjectOutcome {
  if (isInjected(template)) return { result: 'already-injected' };
  const decision = decideInjection(template.metadata?.annotations, target.namespaceAnnotations);
  if (!decision.inject) return { result: 'skipped', reason: decision.because };
  if (template.spec?.hostNetwork) return { result: 'skipped', reason: 'hostNetwork is enabled: the capture rules would apply to the node' };
  const errors: string[] = [];
  const settings = readProxySettings(template.metadata?.annotations, target.namespaceAnnotations, errors);
  if (errors.length > 0) return { result: 'invalid', errors };

  const identity = podIdentity(mesh.trustDomain, target.namespace, template.spec?.serviceAccountName);
  const spec = template.spec ?? {};
  const annotations: Record<string, string> = {
    ...copiedNamespaceConfig(template.metadata?.annotations, target.namespaceAnnotations),
    ...(template.metadata?.annotations ?? {}),
    'linkerd.io/proxy-version': settings.version ?? mesh.version,
    'linkerd.io/created-by': mesh.createdBy,
    'linkerd.io/identity-mode': 'default',
    'linkerd.io/trust-root-sha256': createHash('sha256').update(mesh.trustAnchorsPem).digest('hex'),
    'outpost.io/identity': identity,
  };
  const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}), 'linkerd.io/control-plane-ns': mesh.controlPlaneNamespace, 'linkerd.io/workload-ns': target.namespace };
  if (target.owner) labels[`linkerd.io/proxy-${target.owner.kind.toLowerCase()}`] = target.owner.name;
  return {
    result: 'injected',
    identity,
    template: {
      ...template,
      metadata: { ...(template.metadata ?? {}), annotations, labels },
      spec: {
        ...spec,
        // The capture rules first, then the proxy: the app's own init containers already talk through it.
        initContainers: [initContainer(settings, mesh), proxyContainer(settings, mesh, declaredPorts(spec)), ...(spec.initContainers ?? [])],
        volumes: [...(spec.volumes ?? []), ...volumes(mesh)],
      },
    },
  };
}

/** Like Linkerd, the namespace's config.linkerd.io/* annotations are written onto the pod (so the destination and policy see them). */
function copiedNamespaceConfig(pod: Record<string, string> | undefined, ns: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(ns ?? {}).filter(([k]) => k.startsWith('config.linkerd.io/') && pod?.[k] === undefined));
}

function image(settings: ProxySettings, mesh: MeshSettings): string {
  return `${settings.image ?? mesh.proxyImage}:${settings.version ?? mesh.version}`;
}

function initContainer(settings: ProxySettings, mesh: MeshSettings): Container {
  // Inbound: the proxy's own ports are never captured; outbound: the proxy's uid is not.
  const skipIn = [...new Set([PORTS.inbound, PORTS.admin, PORTS.tap, ...settings.skipInboundPorts])].sort((a, b) => a - b);
  const args = ['proxy-init', '--pod', '--proxy-uid', String(settings.uid), '--inbound-port', String(PORTS.inbound), '--outbound-port', String(PORTS.outbound), '--skip-inbound-ports', skipIn.join(',')];
  if (settings.skipOutboundPorts.length) args.push('--skip-outbound-ports', settings.skipOutboundPorts.join(','));
  if (settings.skipOutboundCidrs.length) args.push('--skip-outbound-cidrs', settings.skipOutboundCidrs.join(','));
  return {
    name: INIT_CONTAINER,
    image: image(settings, mesh),
    imagePullPolicy: 'IfNotPresent',
    command: ['outpost'],
    args,
    resources: { requests: { cpu: '10m', memory: '10Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
    securityContext: {
      // iptables needs NET_ADMIN and NET_RAW in the pod's network namespace, nothing else.
      runAsUser: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/** The pod's declared TCP container ports: the only ones its proxy's inbound forwards to (besides ports a Server selects). */
function declaredPorts(spec: NonNullable<PodTemplate['spec']>): number[] {
  const own = new Set<number>(Object.values(PORTS));
  const ports = new Set<number>();
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const p of (c.ports as { containerPort?: number; protocol?: string }[] | undefined) ?? []) {
      if (Number.isInteger(p.containerPort) && (p.protocol ?? 'TCP') === 'TCP' && !own.has(p.containerPort!)) ports.add(p.containerPort!);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

function proxyContainer(settings: ProxySettings, mesh: MeshSettings, appPorts: number[]): Container {
  const env: Json[] = [
    { name: 'OUTPOST_PROXY_WORKLOAD_KIND', value: 'Pod' },
    { name: 'OUTPOST_PROXY_WORKLOAD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'OUTPOST_PROXY_WORKLOAD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'OUTPOST_PROXY_INBOUND_PORT', value: String(PORTS.inbound) },
    { name: 'OUTPOST_PROXY_OUTBOUND_PORT', value: String(PORTS.outbound) },
    { name: 'OUTPOST_PROXY_ADMIN_PORT', value: String(PORTS.admin) },
    { name: 'OUTPOST_PROXY_TAP_PORT', value: String(PORTS.tap) },
    { name: 'OUTPOST_PROXY_IDENTITY_ENDPOINT', value: mesh.identity },
    { name: 'OUTPOST_PROXY_DESTINATION_ENDPOINT', value: mesh.destination },
    { name: 'OUTPOST_PROXY_POLICY_ENDPOINT', value: mesh.policy },
    { name: 'OUTPOST_PROXY_IDENTITY_TOKEN_PATH', value: `${TOKEN_DIR}/token` },
    { name: 'OUTPOST_PROXY_IDENTITY_DIR', value: IDENTITY_DIR },
    { name: 'OUTPOST_PROXY_IDENTITY_TRUST_ANCHORS_PEM', value: mesh.trustAnchorsPem },
    // The inbound forwards only to declared ports: the app containers' containerPorts.
    ...(appPorts.length ? [{ name: 'OUTPOST_PROXY_INBOUND_PORTS', value: appPorts.join(',') }] : []),
    { name: 'OUTPOST_PROXY_LOG_LEVEL', value: settings.logLevel },
    { name: 'OUTPOST_PROXY_LOG_FORMAT', value: settings.logFormat },
  ];
  const probe = (path: string, extra: Json = {}) => ({ httpGet: { path, port: PORTS.admin }, periodSeconds: 10, timeoutSeconds: 1, ...extra });
  return {
    name: PROXY_CONTAINER,
    image: image(settings, mesh),
    imagePullPolicy: 'IfNotPresent',
    command: ['outpost'],
    args: ['proxy'],
    // A native sidecar (Kubernetes >= 1.29): started before the app, stopped after it, restarted if it exits.
    restartPolicy: 'Always',
    env,
    ports: [
      { name: 'outpost-proxy', containerPort: PORTS.inbound },
      { name: 'outpost-admin', containerPort: PORTS.admin },
      { name: 'outpost-tap', containerPort: PORTS.tap },
    ],
    // The app containers start once the proxy has its certificate (startup probe on /ready).
    startupProbe: probe('/ready', { periodSeconds: 1, failureThreshold: 120 }),
    readinessProbe: probe('/ready'),
    livenessProbe: probe('/live', { initialDelaySeconds: 10 }),
    resources: { requests: { ...settings.resources.requests }, limits: { ...settings.resources.limits } },
    securityContext: {
      runAsUser: settings.uid,
      runAsGroup: settings.uid,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true },
      { name: IDENTITY_DIR_VOLUME, mountPath: IDENTITY_DIR },
    ],
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

function volumes(mesh: MeshSettings): Json[] {
  return [
    // Minted by the kubelet for this pod (bound to it, audience-restricted, rotated at 80 % of its life).
    { name: TOKEN_VOLUME, projected: { sources: [{ serviceAccountToken: { audience: IDENTITY_AUDIENCE_FOR_PODS, expirationSeconds: mesh.tokenExpirationSeconds, path: 'token' } }] } },
    // The proxy's private key never touches a disk.
    { name: IDENTITY_DIR_VOLUME, emptyDir: { medium: 'Memory' } },
  ];
}
