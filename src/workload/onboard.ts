// `outpost workload onboard`, the API side: creates or updates the ServiceAccount, the binding and
// the ExternalWorkload through @kubernetes/client-node, requests a bootstrap token, reads the trust
// roots, then writes the bundle. Idempotent: a re-run updates in place and issues a fresh token.
import { ApiException, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { OutpostError } from '../core/errors.js';
import { ensurePrivateDir, writePrivateFile, writePublicFile } from '../core/files.js';
import { IDENTITY_AUDIENCE } from '../identity/audience.js';
import { TRUST_ROOTS_CONFIGMAP, TRUST_ROOTS_KEY, TRUST_ROOTS_NAMESPACE } from '../identity/kube.js';
import { mergeProxyConfig } from './config-merge.js';
import { BUNDLE_FILES, renderBundle, type ControlPlaneEndpoints, type ProxyLayout, type RenderedBundle } from './bundle.js';
import { EXTERNAL_WORKLOAD, WORKLOAD_GROUP, externalWorkloadManifest, externalWorkloadPatch, serviceAccountManifest } from './manifests.js';
import type { OnboardRequest } from './request.js';
import { GROUP_LABEL, SERVICE_ACCOUNT_ANNOTATION } from '../core/workloads/effective.js';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export type Change = 'created' | 'updated' | 'unchanged';

export interface OnboardResult {
  bundleDir: string;
  serviceAccount: Change;
  namespace: 'created' | 'unchanged';
  workload: Change;
  tokenExpiresAt: Date;
  bundle: RenderedBundle;
  /** mergeConfig and a proxy-config.yaml was in the bundle dir: what the merge kept or changed. */
  configChanges?: string[];
}

export interface OnboardOptions {
  kubeConfig: KubeConfig;
  endpoints: ControlPlaneEndpoints;
  layout: ProxyLayout;
  bundleDir: string;
  /** Probes written into the workload spec (the demo uses the guide's); a re-run keeps the user's otherwise. */
  probes?: unknown[];
  /** --renew: a proxy-config.yaml already in the bundle dir keeps what the user set (config-merge.ts). */
  mergeConfig?: boolean;
}

/** The HTTP status of an API error; undefined for transport errors (whose `code` is a string like ECONNREFUSED). */
export function statusOf(e: unknown): number | undefined {
  const code = e instanceof ApiException ? e.code : ((e as { code?: unknown }).code ?? (e as { statusCode?: unknown }).statusCode);
  return typeof code === 'number' ? code : undefined;
}

/** The API's own message (a Status body), on one line. */
function apiMessage(e: unknown): string {
  let body: unknown = e instanceof ApiException ? e.body : undefined;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {}
  }
  const text = (body as { message?: string } | undefined)?.message ?? (typeof body === 'string' ? body : (e as Error).message ?? String(e));
  return text.split('\n')[0].trim();
}

export function apiError(what: string, e: unknown, kc: KubeConfig): OutpostError {
  const status = statusOf(e);
  const server = kc.getCurrentCluster()?.server ?? 'the API';
  if (status === undefined || status >= 500) return new OutpostError('API_UNREACHABLE', `cannot ${what} at ${server}: ${apiMessage(e)}`);
  if (status === 401 || status === 403) return new OutpostError('API_UNREACHABLE', `cannot ${what}: the API refused the kubeconfig's credentials (HTTP ${status}): ${apiMessage(e)}`, { hint: 'onboarding needs an admin kubeconfig (--kubeconfig)' });
  return new OutpostError(status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT', `cannot ${what}: ${apiMessage(e)} (HTTP ${status})`);
}

async function ensureNamespace(core: CoreV1Api, namespace: string, kc: KubeConfig): Promise<'created' | 'unchanged'> {
  try {
    await core.readNamespace({ name: namespace });
    return 'unchanged';
  } catch (e) {
    if (statusOf(e) !== 404) throw apiError(`read namespace ${namespace}`, e, kc);
  }
  try {
    await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } });
    return 'created';
  } catch (e) {
    if (statusOf(e) === 409) return 'unchanged';
    throw apiError(`create namespace ${namespace}`, e, kc);
  }
}

export async function ensureServiceAccount(core: CoreV1Api, req: Pick<OnboardRequest, 'namespace' | 'serviceAccount'>, kc: KubeConfig): Promise<Change> {
  try {
    await core.readNamespacedServiceAccount({ name: req.serviceAccount, namespace: req.namespace });
    return 'unchanged';
  } catch (e) {
    if (statusOf(e) !== 404) throw apiError(`read ServiceAccount ${req.namespace}/${req.serviceAccount}`, e, kc);
  }
  try {
    await core.createNamespacedServiceAccount({ namespace: req.namespace, body: serviceAccountManifest(req) });
    return 'created';
  } catch (e) {
    if (statusOf(e) === 409) return 'unchanged';
    throw apiError(`create ServiceAccount ${req.namespace}/${req.serviceAccount}`, e, kc);
  }
}

/** WorkloadGroup NAMESPACE/NAME, or undefined when it does not exist; other API errors say what failed. */
export async function findWorkloadGroup(custom: CustomObjectsApi, namespace: string, name: string, kc: KubeConfig): Promise<Record<string, unknown> | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({ ...WORKLOAD_GROUP, namespace, name })) as Record<string, unknown>;
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw apiError(`read WorkloadGroup ${namespace}/${name}`, e, kc);
  }
}

/** The WorkloadGroup --group names; an error naming --group when it does not exist. */
export async function requireWorkloadGroup(custom: CustomObjectsApi, namespace: string, name: string, kc: KubeConfig): Promise<Record<string, unknown>> {
  const group = await findWorkloadGroup(custom, namespace, name, kc);
  if (!group) throw new OutpostError('INVALID_ARGUMENT', `--group: WorkloadGroup ${namespace}/${name} does not exist (create it first: kubectl apply -f workload-group.yaml)`, { field: 'group' });
  return group;
}

async function upsertWorkload(custom: CustomObjectsApi, req: OnboardRequest, probes: unknown[] | undefined, kc: KubeConfig): Promise<Change> {
  const wanted = externalWorkloadManifest(req, probes);
  const target = { ...EXTERNAL_WORKLOAD, namespace: req.namespace, name: req.name };
  let existing: Parameters<typeof externalWorkloadPatch>[0] | undefined;
  try {
    existing = (await custom.getNamespacedCustomObject(target)) as Parameters<typeof externalWorkloadPatch>[0];
  } catch (e) {
    if (statusOf(e) !== 404) throw apiError(`read ExternalWorkload ${req.namespace}/${req.name}`, e, kc);
  }
  if (!existing) {
    try {
      await custom.createNamespacedCustomObject({ ...EXTERNAL_WORKLOAD, namespace: req.namespace, body: wanted });
      return 'created';
    } catch (e) {
      if (statusOf(e) !== 409) throw apiError(`create ExternalWorkload ${req.namespace}/${req.name}`, e, kc);
      existing = (await custom.getNamespacedCustomObject(target)) as Parameters<typeof externalWorkloadPatch>[0];
    }
  }
  const patch = externalWorkloadPatch(existing, wanted);
  if (!patch) return 'unchanged';
  try {
    await custom.patchNamespacedCustomObject({ ...target, body: patch }, MERGE_PATCH);
    return 'updated';
  } catch (e) {
    throw apiError(`update ExternalWorkload ${req.namespace}/${req.name}`, e, kc);
  }
}

export async function requestToken(core: CoreV1Api, req: Pick<OnboardRequest, 'namespace' | 'serviceAccount' | 'tokenDurationMs'>, kc: KubeConfig): Promise<{ token: string; expiresAt: Date }> {
  try {
    const tr = await core.createNamespacedServiceAccountToken({
      name: req.serviceAccount,
      namespace: req.namespace,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [IDENTITY_AUDIENCE], expirationSeconds: Math.round(req.tokenDurationMs / 1000) } },
    });
    const token = tr.status?.token;
    if (!token) throw new OutpostError('INTERNAL', `the API returned no token for ServiceAccount ${req.namespace}/${req.serviceAccount}`);
    const expiresAt = tr.status?.expirationTimestamp ? new Date(tr.status.expirationTimestamp) : new Date(Date.now() + req.tokenDurationMs);
    return { token, expiresAt };
  } catch (e) {
    if (e instanceof OutpostError) throw e;
    throw apiError(`request a token for ServiceAccount ${req.namespace}/${req.serviceAccount}`, e, kc);
  }
}

export async function readTrustRoots(core: CoreV1Api, kc: KubeConfig): Promise<string> {
  try {
    const cm = await core.readNamespacedConfigMap({ namespace: TRUST_ROOTS_NAMESPACE, name: TRUST_ROOTS_CONFIGMAP });
    const pem = cm.data?.[TRUST_ROOTS_KEY];
    if (!pem?.includes('-----BEGIN CERTIFICATE-----')) {
      throw new OutpostError('NOT_FOUND', `ConfigMap ${TRUST_ROOTS_NAMESPACE}/${TRUST_ROOTS_CONFIGMAP} holds no certificate under ${TRUST_ROOTS_KEY}`);
    }
    return pem;
  } catch (e) {
    if (e instanceof OutpostError) throw e;
    if (statusOf(e) === 404) {
      throw new OutpostError('NOT_FOUND', `ConfigMap ${TRUST_ROOTS_NAMESPACE}/${TRUST_ROOTS_CONFIGMAP} does not exist`, { hint: 'the identity component publishes it when the control plane starts' });
    }
    throw apiError('read the trust roots', e, kc);
  }
}

/** Writes the rendered bundle: the token 0600, install.sh 0755, the rest 0644. */
export function writeBundle(dir: string, bundle: RenderedBundle): void {
  ensurePrivateDir(dir); // it holds the token
  for (const f of bundle.files) {
    const path = join(dir, f.name);
    if (f.mode === 0o600) writePrivateFile(path, f.content);
    else {
      writePublicFile(path, f.content);
      chmodSync(path, f.mode);
    }
  }
}

/** For --renew: the existing workload's address, ports, group and ServiceAccount binding. */
export async function readExistingWorkload(kc: KubeConfig, namespace: string, name: string): Promise<{ ip?: string; ports: string[]; group?: string; serviceAccount?: string } | undefined> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  try {
    const ew = (await custom.getNamespacedCustomObject({ ...EXTERNAL_WORKLOAD, namespace, name })) as {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec?: { workloadIPs?: { ip: string }[]; ports?: { name?: string; port: number; protocol?: string }[] };
    };
    return {
      ip: ew.spec?.workloadIPs?.[0]?.ip,
      ports: (ew.spec?.ports ?? []).filter((p) => p.name).map((p) => `${p.name}:${p.port}/${p.protocol ?? 'TCP'}`),
      group: ew.metadata?.labels?.[GROUP_LABEL],
      serviceAccount: ew.metadata?.annotations?.[SERVICE_ACCOUNT_ANNOTATION],
    };
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw apiError(`read ExternalWorkload ${namespace}/${name}`, e, kc);
  }
}

export async function onboardWorkload(req: OnboardRequest, opts: OnboardOptions): Promise<OnboardResult> {
  const kc = opts.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = await ensureNamespace(core, req.namespace, kc);
  if (req.group) await requireWorkloadGroup(custom, req.namespace, req.group, kc);
  const serviceAccount = await ensureServiceAccount(core, req, kc);
  const workload = await upsertWorkload(custom, req, opts.probes, kc);
  const caPem = await readTrustRoots(core, kc);
  const { token, expiresAt } = await requestToken(core, req, kc);
  const bundle = renderBundle({ req, endpoints: opts.endpoints, caPem, token, layout: opts.layout }, relative(process.cwd(), opts.bundleDir) || '.', req.ip);
  const configChanges = opts.mergeConfig ? mergeExistingConfig(opts.bundleDir, bundle) : undefined;
  writeBundle(opts.bundleDir, bundle);
  return { bundleDir: opts.bundleDir, namespace, serviceAccount, workload, tokenExpiresAt: expiresAt, bundle, configChanges };
}

/** Replaces the bundle's proxy-config.yaml with its merge into the one already in `dir`, if any. */
function mergeExistingConfig(dir: string, bundle: RenderedBundle): string[] | undefined {
  const path = join(dir, BUNDLE_FILES.config);
  if (!existsSync(path)) return undefined;
  const file = bundle.files.find((f) => f.name === BUNDLE_FILES.config)!;
  try {
    const merged = mergeProxyConfig(readFileSync(path, 'utf8'), file.content, { installed: path, fresh: 'the new bundle' });
    file.content = merged.text;
    return merged.changes;
  } catch (e) {
    throw new OutpostError('CONFIG_INVALID', `--renew: ${(e as Error).message}; fix or remove it`, { field: 'renew' });
  }
}
