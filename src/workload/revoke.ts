// `outpost workload revoke` (docs/adr/0009), the API side: annotates the ExternalWorkload
// (outpost.io/revoked-at, -reason) and adds its entry to the deny list in ConfigMap
// outpost/outpost-revocations; --undo removes both. Idempotent; through @kubernetes/client-node only.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { OutpostError } from '../core/errors.js';
import { effectiveWorkload, groupNameOf, type ExternalWorkloadLike, type WorkloadGroupLike } from '../core/workloads/effective.js';
import {
  REVOCATIONS_CONFIGMAP,
  REVOCATIONS_KEY,
  REVOCATIONS_NAMESPACE,
  REVOKED_AT_ANNOTATION,
  REVOKED_REASON_ANNOTATION,
  parseRevocations,
  serializeRevocations,
  withRevocation,
  withoutRevocation,
  type RevocationEntry,
} from '../core/workloads/revocation.js';
import { EXTERNAL_WORKLOAD } from './manifests.js';
import { findWorkloadGroup, statusOf } from './onboard.js';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Optimistic-concurrency retries of the ConfigMap write (another revoke racing this one). */
const CONFIGMAP_ATTEMPTS = 5;

export interface RevokeRequest {
  namespace: string;
  name: string;
  reason?: string;
}

export interface RevokeResult {
  /** The workload's annotations: written now, or already so. */
  workload: 'revoked' | 'already-revoked' | 'unrevoked' | 'not-revoked' | 'not-found';
  /** The deny-list entry: added/removed now, or already so. */
  denyList: 'added' | 'removed' | 'unchanged';
  entry?: RevocationEntry;
}

function apiError(what: string, e: unknown, kc: KubeConfig): OutpostError {
  if (e instanceof OutpostError) return e;
  const status = statusOf(e);
  const server = kc.getCurrentCluster()?.server ?? 'the API';
  const message = ((e as { body?: unknown }).body && typeof (e as { body?: unknown }).body === 'string' ? (e as { body: string }).body : (e as Error).message ?? String(e)).split('\n')[0];
  if (status === undefined || status >= 500) return new OutpostError('API_UNREACHABLE', `cannot ${what} at ${server}: ${message}`);
  if (status === 401 || status === 403) return new OutpostError('API_UNREACHABLE', `cannot ${what}: the API refused the kubeconfig's credentials (HTTP ${status})`, { hint: 'revocation needs an admin kubeconfig (--kubeconfig)' });
  return new OutpostError(status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT', `cannot ${what}: ${message} (HTTP ${status})`);
}

type WorkloadObject = ExternalWorkloadLike & { metadata: { annotations?: Record<string, string> } };

async function readWorkload(custom: CustomObjectsApi, req: RevokeRequest, kc: KubeConfig): Promise<WorkloadObject | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({ ...EXTERNAL_WORKLOAD, namespace: req.namespace, name: req.name })) as WorkloadObject;
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw apiError(`read ExternalWorkload ${req.namespace}/${req.name}`, e, kc);
  }
}

async function patchAnnotations(custom: CustomObjectsApi, req: RevokeRequest, annotations: Record<string, string | null>, kc: KubeConfig): Promise<void> {
  try {
    await custom.patchNamespacedCustomObject({ ...EXTERNAL_WORKLOAD, namespace: req.namespace, name: req.name, body: { metadata: { annotations } } }, MERGE_PATCH);
  } catch (e) {
    throw apiError(`annotate ExternalWorkload ${req.namespace}/${req.name}`, e, kc);
  }
}

/** Read-modify-write of the deny list, with the resourceVersion as a guard; retried on conflict. */
async function updateDenyList(core: CoreV1Api, change: (entries: RevocationEntry[]) => RevocationEntry[], kc: KubeConfig): Promise<'changed' | 'unchanged'> {
  const target = { namespace: REVOCATIONS_NAMESPACE, name: REVOCATIONS_CONFIGMAP };
  for (let attempt = 1; ; attempt++) {
    let cm: V1ConfigMap | undefined;
    try {
      cm = await core.readNamespacedConfigMap(target);
    } catch (e) {
      if (statusOf(e) !== 404) throw apiError(`read ConfigMap ${REVOCATIONS_NAMESPACE}/${REVOCATIONS_CONFIGMAP}`, e, kc);
    }
    const before = parseRevocations(cm?.data?.[REVOCATIONS_KEY]);
    const after = change(before);
    if (JSON.stringify(after) === JSON.stringify(before) && (cm || after.length === 0)) return 'unchanged';
    const data = { ...(cm?.data ?? {}), [REVOCATIONS_KEY]: serializeRevocations(after) };
    try {
      if (cm) await core.replaceNamespacedConfigMap({ ...target, body: { ...cm, data } });
      else await core.createNamespacedConfigMap({ namespace: REVOCATIONS_NAMESPACE, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: REVOCATIONS_CONFIGMAP, namespace: REVOCATIONS_NAMESPACE }, data } });
      return 'changed';
    } catch (e) {
      if (statusOf(e) === 409 && attempt < CONFIGMAP_ATTEMPTS) continue;
      throw apiError(`write ConfigMap ${REVOCATIONS_NAMESPACE}/${REVOCATIONS_CONFIGMAP}`, e, kc);
    }
  }
}

/** Revokes the workload: annotations first (it leaves every Service), then its deny-list entry (peers refuse it). */
export async function revokeWorkload(kc: KubeConfig, req: RevokeRequest, clock: Clock = systemClock): Promise<RevokeResult> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const ew = await readWorkload(custom, req, kc);
  if (!ew) throw new OutpostError('NOT_FOUND', `ExternalWorkload ${req.namespace}/${req.name} does not exist`, { field: 'name', hint: `kubectl get externalworkloads -n ${req.namespace}` });
  const groupName = groupNameOf(ew);
  const group = groupName ? ((await findWorkloadGroup(custom, req.namespace, groupName, kc)) as WorkloadGroupLike | undefined) : undefined;
  const effective = effectiveWorkload(ew, group);
  const existingAt = ew.metadata.annotations?.[REVOKED_AT_ANNOTATION];
  const revokedAt = existingAt || new Date(clock.now()).toISOString();
  const reason = req.reason ?? ew.metadata.annotations?.[REVOKED_REASON_ANNOTATION] ?? '';
  const wantReason = reason ? reason : null;
  const alreadyAnnotated = Boolean(existingAt) && (ew.metadata.annotations?.[REVOKED_REASON_ANNOTATION] ?? null) === wantReason;
  if (!alreadyAnnotated) await patchAnnotations(custom, req, { [REVOKED_AT_ANNOTATION]: revokedAt, [REVOKED_REASON_ANNOTATION]: wantReason }, kc);
  const entry: RevocationEntry = { namespace: req.namespace, workload: req.name, identity: effective.identity, serverName: effective.serverName.toLowerCase(), revokedAt, reason };
  const denyList = await updateDenyList(core, (entries) => withRevocation(entries, entry), kc);
  return { workload: existingAt ? 'already-revoked' : 'revoked', denyList: denyList === 'changed' ? 'added' : 'unchanged', entry };
}

/** Undoes a revocation: the annotations go (it rejoins its Services once ready) and so does its deny-list entry. */
export async function unrevokeWorkload(kc: KubeConfig, req: RevokeRequest): Promise<RevokeResult> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const ew = await readWorkload(custom, req, kc);
  let workload: RevokeResult['workload'] = 'not-found';
  if (ew) {
    const annotated = Boolean(ew.metadata.annotations?.[REVOKED_AT_ANNOTATION] || ew.metadata.annotations?.[REVOKED_REASON_ANNOTATION]);
    if (annotated) await patchAnnotations(custom, req, { [REVOKED_AT_ANNOTATION]: null, [REVOKED_REASON_ANNOTATION]: null }, kc);
    workload = annotated ? 'unrevoked' : 'not-revoked';
  }
  // Also for a workload deleted since: its entry must not linger.
  const denyList = await updateDenyList(core, (entries) => withoutRevocation(entries, req.namespace, req.name), kc);
  if (workload === 'not-found' && denyList === 'unchanged') {
    throw new OutpostError('NOT_FOUND', `ExternalWorkload ${req.namespace}/${req.name} does not exist and is not on the revocation list`, { field: 'name' });
  }
  return { workload, denyList: denyList === 'changed' ? 'removed' : 'unchanged' };
}
