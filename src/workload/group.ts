// `outpost workload onboard --group G -n NS` (no NAME), the API side: binds the WorkloadGroup to a
// ServiceAccount (docs/adr/0010), issues a token for it and writes ONE bundle that every VM of the group installs.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { relative } from 'node:path';
import { SERVICE_ACCOUNT_ANNOTATION } from '../core/workloads/effective.js';
import { renderGroupBundle, type ControlPlaneEndpoints, type ProxyLayout, type RenderedBundle } from './bundle.js';
import { INBOUND_PORT_ANNOTATION, WORKLOAD_GROUP } from './manifests.js';
import { apiError, ensureServiceAccount, readTrustRoots, requestToken, requireWorkloadGroup, writeBundle, type Change } from './onboard.js';
import type { GroupOnboardRequest } from './request.js';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface WorkloadGroupObject {
  metadata?: { annotations?: Record<string, string> };
  spec?: { template?: { metadata?: { annotations?: Record<string, string> }; spec?: { ports?: { port: number }[] } } };
}

export interface GroupOnboardResult {
  bundleDir: string;
  serviceAccount: { name: string; change: Change };
  /** The group's binding annotation: created, changed to another ServiceAccount, or already there. */
  binding: Change;
  /** The ServiceAccount the group was bound to before, when the binding changed. */
  previousServiceAccount?: string;
  tokenExpiresAt: Date;
  /** The proxy inbound port members announce (the template's annotation, else 4143). */
  inboundPort: number;
  bundle: RenderedBundle;
}

export interface GroupOnboardOptions {
  kubeConfig: KubeConfig;
  endpoints: ControlPlaneEndpoints;
  /** Builds the layout from the members' inbound port. */
  layout: (inboundPort: number) => ProxyLayout;
  bundleDir: string;
}

/** Which ServiceAccount the group is bound to after this run: the flag, else the current binding, else the group's name. */
export function groupServiceAccount(req: Pick<GroupOnboardRequest, 'group' | 'serviceAccount'>, currentBinding: string | undefined): string {
  return req.serviceAccount ?? currentBinding ?? req.group;
}

async function bindGroup(custom: CustomObjectsApi, req: GroupOnboardRequest, serviceAccount: string, current: string | undefined, kc: KubeConfig): Promise<Change> {
  if (current === serviceAccount) return 'unchanged';
  try {
    await custom.patchNamespacedCustomObject(
      { ...WORKLOAD_GROUP, namespace: req.namespace, name: req.group, body: { metadata: { annotations: { [SERVICE_ACCOUNT_ANNOTATION]: serviceAccount } } } },
      MERGE_PATCH,
    );
    return current === undefined ? 'created' : 'updated';
  } catch (e) {
    throw apiError(`bind WorkloadGroup ${req.namespace}/${req.group} to ServiceAccount ${serviceAccount}`, e, kc);
  }
}

export async function onboardGroup(req: GroupOnboardRequest, opts: GroupOnboardOptions): Promise<GroupOnboardResult> {
  const kc = opts.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const group = (await requireWorkloadGroup(custom, req.namespace, req.group, kc)) as WorkloadGroupObject;
  const current = group.metadata?.annotations?.[SERVICE_ACCOUNT_ANNOTATION] || undefined;
  const name = groupServiceAccount(req, current);
  const sa = { namespace: req.namespace, serviceAccount: name, tokenDurationMs: req.tokenDurationMs };
  const saChange = await ensureServiceAccount(core, sa, kc);
  const binding = await bindGroup(custom, req, name, current, kc);
  const caPem = await readTrustRoots(core, kc);
  const { token, expiresAt } = await requestToken(core, sa, kc);
  const template = group.spec?.template;
  const inboundPort = Number(template?.metadata?.annotations?.[INBOUND_PORT_ANNOTATION]) || 4143;
  const ports = (template?.spec?.ports ?? []).map((p) => p.port).filter((p) => Number.isInteger(p));
  const bundle = renderGroupBundle(
    { namespace: req.namespace, group: req.group, ports, endpoints: opts.endpoints, caPem, token, layout: opts.layout(inboundPort) },
    relative(process.cwd(), opts.bundleDir) || '.',
  );
  writeBundle(opts.bundleDir, bundle);
  return {
    bundleDir: opts.bundleDir,
    serviceAccount: { name, change: saChange },
    binding,
    ...(binding === 'updated' ? { previousServiceAccount: current } : {}),
    tokenExpiresAt: expiresAt,
    inboundPort,
    bundle,
  };
}
