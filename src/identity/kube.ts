// The identity service's API calls, through @kubernetes/client-node only: TokenReview, the
// trust-roots ConfigMap and issuance Events (workload lookups are in directory.ts).
import { AuthenticationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { makeKeepAliveApiClient } from '../core/kube-clients.js';
import type { ReviewedToken } from './certify.js';
import type { Claimant } from './claims.js';
import { createEventSink } from '../core/event-sink.js';
import { Refusal } from './refusal.js';
import { podClaim } from './pod-identity.js';
import { claimedAudiences, IDENTITY_AUDIENCE } from './audience.js';

export const TRUST_ROOTS_NAMESPACE = 'outpost';
export const TRUST_ROOTS_CONFIGMAP = 'outpost-identity-trust-roots';
export const TRUST_ROOTS_KEY = 'ca-bundle.crt';
/** The JWT bundle (JWKS) next to the X.509 roots: what validates JWT-SVIDs. */
export const JWT_BUNDLE_KEY = 'jwt-bundle.json';

const SA_USERNAME = /^system:serviceaccount:([^:]+):([^:]+)$/;

export type WorkloadRecord = Claimant & { uid?: string };

const statusCode = (e: unknown): number | undefined => (e as { code?: number }).code;

export function unavailable(what: string, e: unknown): Refusal {
  return new Refusal('api_unavailable', `the identity service cannot ${what} right now (${(e as Error).message ?? String(e)}); retry shortly`);
}

/** TokenReview through the API: the token must be a valid ServiceAccount token (signature, expiry, audience, SA still there). */
export function createTokenReviewer(kc: KubeConfig): (token: string) => Promise<ReviewedToken> {
  const auth = makeKeepAliveApiClient(kc, AuthenticationV1Api);
  return async (token) => {
    const audiences = claimedAudiences(token).includes(IDENTITY_AUDIENCE) ? [IDENTITY_AUDIENCE] : undefined;
    let review;
    try {
      review = await auth.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } } });
    } catch (e) {
      throw unavailable('review the token', e);
    }
    const st = review.status;
    if (!st?.authenticated) {
      throw new Refusal(
        'token_invalid',
        `the token was rejected (${st?.error || 'not authenticated'}); create a new one with \`kubectl create token SA -n NAMESPACE --duration=1h\``,
      );
    }
    const m = SA_USERNAME.exec(st.user?.username ?? '');
    if (!m) throw new Refusal('token_not_service_account', `the token belongs to ${st.user?.username ?? 'an unknown user'}, not to a ServiceAccount; use \`kubectl create token SA -n NAMESPACE\``);
    // A pod's projected token also names its pod (src/identity/pod-identity.ts).
    return { namespace: m[1], serviceAccount: m[2], uid: st.user?.uid ?? '', ...podClaim(st.user?.extra) };
  };
}

/**
 * Creates or updates ConfigMap outpost/outpost-identity-trust-roots. The namespace is created only
 * when it is missing: in a cluster it comes from `outpost install`, and the identity ServiceAccount
 * may not create namespaces (a create answered 403 would otherwise stop the publication).
 */
export async function publishTrustRoots(kc: KubeConfig, bundlePem: string, jwksJson?: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const body = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: TRUST_ROOTS_CONFIGMAP, namespace: TRUST_ROOTS_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'outpost' } },
    data: { [TRUST_ROOTS_KEY]: bundlePem, ...(jwksJson ? { [JWT_BUNDLE_KEY]: jwksJson } : {}) },
  };
  let existing;
  try {
    existing = await core.readNamespacedConfigMap({ name: TRUST_ROOTS_CONFIGMAP, namespace: TRUST_ROOTS_NAMESPACE });
  } catch (e) {
    if (statusCode(e) !== 404) throw e;
  }
  if (existing) {
    if (existing.data?.[TRUST_ROOTS_KEY] === bundlePem && existing.data?.[JWT_BUNDLE_KEY] === body.data[JWT_BUNDLE_KEY]) return;
    await core.replaceNamespacedConfigMap({ name: TRUST_ROOTS_CONFIGMAP, namespace: TRUST_ROOTS_NAMESPACE, body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } } });
    return;
  }
  try {
    await core.createNamespacedConfigMap({ namespace: TRUST_ROOTS_NAMESPACE, body });
  } catch (e) {
    if (statusCode(e) !== 404) throw e; // 404: the namespace does not exist yet
    await createOutpostNamespace(core);
    await core.createNamespacedConfigMap({ namespace: TRUST_ROOTS_NAMESPACE, body });
  }
}

/** Namespace outpost, for a create answered 404 (with the embedded API or admin credentials; `outpost install` renders it otherwise). */
export async function createOutpostNamespace(core: CoreV1Api): Promise<void> {
  try {
    await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: TRUST_ROOTS_NAMESPACE } } });
  } catch (ne) {
    if (statusCode(ne) !== 409) throw ne;
  }
}

export interface EventRecorder {
  issued(workload: WorkloadRecord, kind: 'bootstrap' | 'renewal', notAfter: number): void;
  /** Waits for queued events (tests, shutdown). */
  flush(): Promise<void>;
}

/**
 * Records a core/v1 Event on the ExternalWorkload per issuance. Never blocks certification: events
 * go through a bounded queue (overflow is dropped and counted) sent by two workers.
 */
export function createEventRecorder(kc: KubeConfig, opts: { log: Logger; clock: Clock; onDrop: () => void; queueLimit?: number }): EventRecorder {
  const sink = createEventSink(kc, { ...opts, component: 'outpost-identity' });
  return {
    issued(w, kind, notAfter) {
      sink.send(`${w.namespace}/${w.name}`, w.namespace, {
        involvedObject: w.kind === 'Pod' ? { apiVersion: 'v1', kind: 'Pod', name: w.name, namespace: w.namespace } : { apiVersion: 'workload.linkerd.io/v1beta1', kind: 'ExternalWorkload', name: w.name, namespace: w.namespace, uid: w.uid },
        reason: kind === 'bootstrap' ? 'IdentityIssued' : 'IdentityRenewed',
        message: `issued certificate for ${w.identity} (serverName ${w.serverName}), valid until ${new Date(notAfter).toISOString()}`,
        type: 'Normal',
      });
    },
    flush: () => sink.flush(),
  };
}
