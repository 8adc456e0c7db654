// Everything `outpost install` applies to a cluster, in apply order: CRDs, the `outpost` namespace,
// one ServiceAccount with its ClusterRole/Role per component, the trust-roots ConfigMap, the issuer
// Secret, then a Deployment, Service and PodDisruptionBudget per component. Pure: the CA material
// is an input (ca.ts generates or imports it).
import { JWT_KEY_SECRET } from '../identity/jwt-key-secret.js';
import type { PodNaming } from '../core/workloads/pod.js';
import { stringify } from 'yaml';
import { TRUST_ROOTS_CONFIGMAP, TRUST_ROOTS_KEY } from '../identity/kube.js';
import { renderCrds } from './crds.js';
import { IDENTITY_SERVICE_ADDRESS, INSTALL_COMPONENTS, INSTALL_NAMESPACE } from './components.js';
import type { InstallComponent } from './component-spec.js';
import { INSTALL_LABELS, componentLabels } from './labels.js';
import type { CaMaterial } from '../identity/authority.js';
import { renderInjectorWebhook } from './injector.js';

export const ISSUER_SECRET = 'outpost-identity-issuer';
const DATA_DIR = '/var/lib/outpost';
const ISSUER_DIR = '/var/run/outpost/identity/issuer';
const ANCHORS_DIR = '/var/run/outpost/identity/trust-roots';

export interface InstallOptions {
  image: string;
  ca: CaMaterial;
  trustDomain: string;
  /** How pods' certificates are named (`--identity-naming`); every component gets it. Default spiffe. */
  identityNaming?: PodNaming;
  components?: InstallComponent[];
}

export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } & Record<string, unknown> };

export function renderInstall(opts: InstallOptions): K8sObject[] {
  const components = opts.components ?? INSTALL_COMPONENTS;
  const ns = INSTALL_NAMESPACE;
  const out: K8sObject[] = [...(renderCrds() as K8sObject[])];
  out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...INSTALL_LABELS } } });
  for (const c of components) out.push(...rbacOf(c));
  out.push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: TRUST_ROOTS_CONFIGMAP, namespace: ns, labels: { ...INSTALL_LABELS } },
    data: { [TRUST_ROOTS_KEY]: opts.ca.trustAnchorsPem },
  });
  out.push({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: ISSUER_SECRET, namespace: ns, labels: { ...componentLabels('identity') } },
    stringData: { 'tls.crt': opts.ca.issuerCertPem, 'tls.key': opts.ca.issuerKeyPem },
  });
  // Empty: identity fills it with its JWT-SVID signing key on first start (src/identity/jwt-key-secret.ts).
  // A later apply leaves the key alone (neither server-side nor client-side apply touches fields it never set).
  if (components.some((c) => c.name === 'identity')) {
    out.push({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: JWT_KEY_SECRET, namespace: ns, labels: { ...componentLabels('identity') } } });
  }
  for (const c of components) out.push(deploymentOf(c, opts), serviceOf(c), pdbOf(c));
  if (components.some((c) => c.name === 'injector')) out.push(renderInjectorWebhook(opts.ca.trustAnchorsPem) as K8sObject);
  return out;
}

function rbacOf(c: InstallComponent): K8sObject[] {
  const ns = INSTALL_NAMESPACE;
  const labels = componentLabels(c.name);
  const subject = [{ kind: 'ServiceAccount', name: c.serviceAccount, namespace: ns }];
  const out: K8sObject[] = [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: c.serviceAccount, namespace: ns, labels } }];
  if (c.clusterRules.length) {
    out.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: c.serviceAccount, labels }, rules: c.clusterRules },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: c.serviceAccount, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: c.serviceAccount }, subjects: subject },
    );
  }
  if (c.namespaceRules.length) {
    out.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: c.serviceAccount, namespace: ns, labels }, rules: c.namespaceRules },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: c.serviceAccount, namespace: ns, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: c.serviceAccount }, subjects: subject },
    );
  }
  return out;
}

function deploymentOf(c: InstallComponent, opts: InstallOptions): K8sObject {
  const labels = componentLabels(c.name);
  const selector = { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'] };
  const args = ['up', '--in-cluster', `--components=${c.name}`, '--listen=0.0.0.0', `--data-dir=${DATA_DIR}`, `--identity-trust-domain=${opts.trustDomain}`, ...(opts.identityNaming && opts.identityNaming !== 'spiffe' ? [`--identity-naming=${opts.identityNaming}`] : []), ...c.ports.map((p) => `--${p.flag}=${p.port}`)];
  const mounts: Record<string, unknown>[] = [{ name: 'data', mountPath: DATA_DIR }];
  const volumes: Record<string, unknown>[] = [{ name: 'data', emptyDir: {} }];
  // Every other component gets its serving certificate from the identity Service, with its own token.
  if (c.name !== 'identity') args.push(`--identity-address=${IDENTITY_SERVICE_ADDRESS}`);
  if (c.name === 'identity') {
    // The same import flags as `outpost up`: the issuer from the Secret, the anchors from the ConfigMap.
    args.push(`--identity-trust-anchors-file=${ANCHORS_DIR}/${TRUST_ROOTS_KEY}`, `--identity-issuer-cert=${ISSUER_DIR}/tls.crt`, `--identity-issuer-key=${ISSUER_DIR}/tls.key`);
    mounts.push({ name: 'issuer', mountPath: ISSUER_DIR, readOnly: true }, { name: 'trust-roots', mountPath: ANCHORS_DIR, readOnly: true });
    volumes.push({ name: 'issuer', secret: { secretName: ISSUER_SECRET, defaultMode: 0o400 } }, { name: 'trust-roots', configMap: { name: TRUST_ROOTS_CONFIGMAP } });
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: c.serviceAccount, namespace: INSTALL_NAMESPACE, labels, annotations: { 'outpost.io/description': c.summary } },
    spec: {
      replicas: c.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: c.serviceAccount,
          automountServiceAccountToken: true,
          securityContext: { runAsNonRoot: true, runAsUser: 2102, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: c.name,
              image: opts.image,
              args,
              ports: [...c.ports.map((p) => ({ name: p.name, containerPort: p.port })), { name: 'admin', containerPort: 9990 }],
              livenessProbe: { httpGet: { path: '/live', port: 'admin' }, periodSeconds: 10 },
              readinessProbe: { httpGet: { path: '/ready', port: 'admin' }, periodSeconds: 5 },
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '512Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

function serviceOf(c: InstallComponent): K8sObject {
  const labels = componentLabels(c.name);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `outpost-${c.service ?? c.name}`, namespace: INSTALL_NAMESPACE, labels },
    spec: {
      selector: { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'] },
      ports: [...c.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: 'TCP' })), { name: 'admin', port: 9990, targetPort: 'admin', protocol: 'TCP' }],
    },
  };
}

function pdbOf(c: InstallComponent): K8sObject {
  const labels = componentLabels(c.name);
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: c.serviceAccount, namespace: INSTALL_NAMESPACE, labels },
    // One replica: a drain may evict it (a surge replaces it); two: one always stays.
    spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'] } } },
  };
}

/** Multi-document YAML, `---` between documents, as `kubectl apply -f -` reads it. */
export function toYaml(objects: K8sObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

/** A file name per object for `--out DIR`, numbered in apply order. */
export function fileNameOf(o: K8sObject, i: number): string {
  const ns = o.metadata.namespace ? `${o.metadata.namespace}.` : '';
  return `${String(i).padStart(3, '0')}-${o.kind.toLowerCase()}-${ns}${o.metadata.name}.yaml`;
}
