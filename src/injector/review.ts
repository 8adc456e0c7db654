// Decides one AdmissionReview (admission.k8s.io/v1) for a pod: inject it (a JSON Patch), leave it
// as it is, or deny it when its annotations are invalid. Pure apart from the namespace lookup it
// is given; shared mutation logic is src/inject/pod.ts.
import { injectPodTemplate, type PodTemplate } from '../inject/pod.js';
import type { MeshSettings } from '../inject/mesh.js';
import { diffPod } from './json-patch.js';

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  namespace?: string;
  operation?: string;
  object?: PodTemplate & { kind?: string };
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: { code: number; reason: string; message: string; details?: { causes: { field: string; message: string }[] } };
  warnings?: string[];
}

export type ReviewResult = 'injected' | 'skipped' | 'already-injected' | 'denied' | 'ignored';

export interface ReviewOutcome {
  response: AdmissionResponse;
  result: ReviewResult;
  /** The workload the pod belongs to (for Events): Deployment api-server, or the pod's namespace. */
  owner?: { kind: string; name: string };
  reason?: string;
  identity?: string;
}

/**
 * The pod's owner as a user knows it: a ReplicaSet named `<deployment>-<pod-template-hash>` is its
 * Deployment's (the name pattern the Deployment controller uses).
 */
export function podOwner(pod: PodTemplate): { kind: string; name: string } | undefined {
  const refs = pod.metadata?.ownerReferences as { kind: string; name: string; controller?: boolean }[] | undefined;
  const ref = refs?.find((r) => r.controller) ?? refs?.[0];
  if (!ref) return undefined;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) return { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) };
  return { kind: ref.kind, name: ref.name };
}

export async function reviewPod(req: AdmissionRequest, lookups: { namespaceAnnotations(ns: string): Promise<Record<string, string> | undefined> }, mesh: MeshSettings): Promise<ReviewOutcome> {
  const allow = (result: ReviewResult, reason?: string): ReviewOutcome => ({ response: { uid: req.uid, allowed: true }, result, reason });
  if (req.kind?.kind !== 'Pod' || (req.operation && req.operation !== 'CREATE') || !req.object) return allow('ignored', 'not a pod creation');
  const pod = req.object;
  const namespace = req.namespace || pod.metadata?.namespace || 'default';
  const owner = podOwner(pod);
  // Throws when the namespace cannot be read: the caller answers with an error and the API server applies the failurePolicy.
  const namespaceAnnotations = await lookups.namespaceAnnotations(namespace);
  const outcome = injectPodTemplate(pod, { namespace, namespaceAnnotations, owner }, mesh);
  switch (outcome.result) {
    case 'already-injected':
      return { ...allow('already-injected', 'the pod already has a proxy'), owner };
    case 'skipped':
      return { ...allow('skipped', outcome.reason), owner };
    case 'invalid':
      return {
        result: 'denied',
        owner,
        reason: outcome.errors.join('; '),
        response: {
          uid: req.uid,
          allowed: false,
          status: {
            code: 422,
            reason: 'Invalid',
            message: `outpost proxy injector: ${outcome.errors.join('; ')}`,
            details: { causes: outcome.errors.map((e) => ({ field: `metadata.annotations[${/^annotation (\S+):/.exec(e)?.[1] ?? ''}]`, message: e.replace(/^annotation \S+: /, '') })) },
          },
        },
      };
    case 'injected': {
      const ops = diffPod(pod as Record<string, unknown>, outcome.template as Record<string, unknown>);
      return {
        result: 'injected',
        owner,
        identity: outcome.identity,
        response: { uid: req.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') },
      };
    }
  }
}
