// The MutatingWebhookConfiguration that sends pod creations to the injector: rendered for
// `outpost install` (clientConfig: the proxy-injector Service) and for tests and out-of-cluster
// injectors (clientConfig: a URL). The caBundle is the mesh's trust-anchor bundle, which signed the
// injector's serving certificate. Pure.
import type { FailurePolicy } from './server.js';
import { INJECT_PATH } from './server.js';

export const WEBHOOK_CONFIGURATION_NAME = 'outpost-proxy-injector';
export const WEBHOOK_NAME = 'proxy-injector.outpost.io';
/** Namespaces labelled so are never sent to the injector (like Linkerd's own label). */
export const ADMISSION_WEBHOOKS_LABEL = 'config.linkerd.io/admission-webhooks';
/** Never injected: the control plane's own namespace and kube-system. */
export const DEFAULT_EXCLUDED_NAMESPACES: readonly string[] = ['kube-system', 'outpost'];

export interface WebhookConfigOptions {
  trustAnchorsPem: string;
  failurePolicy: FailurePolicy;
  /** In a cluster: the injector's Service. */
  service?: { namespace: string; name: string; port: number };
  /** Out of cluster (tests): https://127.0.0.1:PORT/inject. */
  url?: string;
  /** Namespaces never injected; the control plane's own and kube-system by default. */
  excludedNamespaces?: string[];
  timeoutSeconds?: number;
}

export function renderWebhookConfiguration(o: WebhookConfigOptions): Record<string, unknown> {
  if (Boolean(o.service) === Boolean(o.url)) throw new Error('renderWebhookConfiguration: give exactly one of service and url');
  const caBundle = Buffer.from(o.trustAnchorsPem).toString('base64');
  const clientConfig = o.url ? { url: o.url, caBundle } : { service: { ...o.service!, path: INJECT_PATH }, caBundle };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: WEBHOOK_CONFIGURATION_NAME, labels: { 'app.kubernetes.io/part-of': 'outpost', 'app.kubernetes.io/component': 'proxy-injector' } },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1'],
        clientConfig,
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
        failurePolicy: o.failurePolicy,
        // Events are the injector's only side effect, and it records none for dry runs.
        sideEffects: 'NoneOnDryRun',
        // Pods are sent whatever asked for injection (the pod or its namespace); the injector decides.
        namespaceSelector: {
          matchExpressions: [
            { key: ADMISSION_WEBHOOKS_LABEL, operator: 'NotIn', values: ['disabled'] },
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...(o.excludedNamespaces ?? DEFAULT_EXCLUDED_NAMESPACES)] },
          ],
        },
        // Other webhooks that add containers after us get our sidecar re-checked (idempotent).
        reinvocationPolicy: 'IfNeeded',
        timeoutSeconds: o.timeoutSeconds ?? 10,
        matchPolicy: 'Equivalent',
      },
    ],
  };
}
