// The injector's part of `outpost install`: its component entry (ServiceAccount, least-privilege
// RBAC, Deployment, Service, PDB rendered by render.ts) and the MutatingWebhookConfiguration
// pointing at its Service, trusted through the mesh's trust anchors.
import { declareComponent } from './component-spec.js';
import { renderWebhookConfiguration } from '../injector/webhook-config.js';
import type { FailurePolicy } from '../injector/server.js';

export const INJECTOR_PORT = 8443;

export const injectorInstallComponent = declareComponent('injector', {
  summary: 'the proxy injector: a mutating admission webhook that adds the Outpost proxy to pods that ask for it',
  clusterRules: [
    // A pod's namespace annotations (inject, config.linkerd.io/*).
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
    // Pods that asked for the proxy and were created without it (src/injector/uninjected-pods.ts).
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    // Injected / InjectionFailed / InjectionDenied on the pods' workloads.
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ],
  port: { name: 'https', number: INJECTOR_PORT },
});

/** The webhook registration, applied after the injector's Deployment and Service. */
export function renderInjectorWebhook(trustAnchorsPem: string, failurePolicy: FailurePolicy = 'Ignore'): Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } } {
  return renderWebhookConfiguration({ trustAnchorsPem, failurePolicy, service: { namespace: 'outpost', name: `outpost-${injectorInstallComponent.name}`, port: INJECTOR_PORT } }) as never;
}
