// Stopgap while `outpost proxy` cannot yet join a control plane with a bootstrap token (its module
// src/proxy/identity/source.ts is not built): the demo enrols each workload itself with the
// bundle's token (what `outpost identity certify` does), runs the proxy on those files, renders
// the guide's postgres policy into the proxy's static policy, and marks the workloads
// assume-ready (no health reports without the control-plane mode). Removed once the proxy has it.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { serviceAccountIdentity } from '../core/workloads/effective.js';
import { WorkloadIdentityClient } from '../proxy/identity/client.js';
import { statePaths } from '../proxy/identity/state.js';
import { EXTERNAL_WORKLOAD } from '../workload/manifests.js';
import { DEMO_NAMESPACE } from './hybrid-app.js';

export const ASSUME_READY_ANNOTATION = 'outpost.io/assume-ready';
const CONTROL_PLANE_IDENTITY_MODULE = '../proxy/identity/source.js';

/** True when `outpost proxy` can bootstrap from identity.tokenPath (the real path). */
export async function proxyJoinsControlPlane(): Promise<boolean> {
  try {
    const mod = (await import(CONTROL_PLANE_IDENTITY_MODULE)) as { createControlPlaneIdentity?: unknown };
    return typeof mod.createControlPlaneIdentity === 'function';
  } catch {
    return false;
  }
}

/** Sets (fallback) or clears (real path) the assume-ready annotation. */
export async function setAssumeReady(kc: KubeConfig, name: string, on: boolean): Promise<void> {
  await kc
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObject({ ...EXTERNAL_WORKLOAD, namespace: DEMO_NAMESPACE, name, body: { metadata: { annotations: { [ASSUME_READY_ANNOTATION]: on ? 'true' : null } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

/** Enrols with the bundle's token and rewrites its proxy-config.yaml to use the certificate files. */
export async function enrolFromBundle(bundleDir: string, staticPolicy?: { port: number; allowServiceAccount: string }): Promise<string> {
  const configPath = join(bundleDir, 'proxy-config.yaml');
  const doc = parseYaml(readFileSync(configPath, 'utf8')) as { identity: Record<string, string>; workload: { name: string; namespace: string }; policy?: Record<string, unknown> };
  const stateDir = doc.identity.dir;
  const client = new WorkloadIdentityClient({
    identityAddr: doc.identity.endpoint,
    trustAnchorsPem: readFileSync(doc.identity.trustAnchors, 'utf8'),
    workload: doc.workload,
    stateDir,
    token: () => readFileSync(doc.identity.tokenPath, 'utf8').trim(),
  });
  try {
    const creds = await client.start();
    const p = statePaths(stateDir);
    doc.identity.certFile = p.cert;
    doc.identity.keyFile = p.key;
    if (staticPolicy) {
      doc.policy = {
        ...(doc.policy ?? {}),
        default: 'all-authenticated',
        ports: [{ port: staticPolicy.port, protocol: 'opaque', identities: [serviceAccountIdentity(doc.workload.namespace, staticPolicy.allowServiceAccount)] }],
      };
    }
    writeFileSync(configPath, `# demo stopgap: certificate obtained by \`outpost demo\` with the bundle's token (see src/demo/fallback.ts)\n${toYaml(doc)}`);
    return creds.identity;
  } finally {
    client.close();
  }
}
