// Auto-registration (docs/adr/0010), the API side: before a Certify request for
// "NAMESPACE/group:GROUP@IP" is authorized as usual, creates or reclaims the member ExternalWorkload
// (fresh reads and writes through @kubernetes/client-node), then certifies it under its own name.
import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../core/log.js';
import { DEFAULT_TRUST_DOMAIN, effectiveWorkload, GROUP_LABEL, SERVICE_ACCOUNT_ANNOTATION, type ExternalWorkloadLike, type WorkloadGroupLike } from '../core/workloads/effective.js';
import { makeKeepAliveApiClient } from '../core/kube-clients.js';
import { checkGroupEntitlement, isGroupRef, memberName, parseGroupRef, planRegistration, REGISTERED_WORKLOAD_KEY, type GroupRef } from './autoregister.js';
import type { CertifyInput, Entitlement, ReviewedToken } from './certify.js';
import { unavailable } from './kube.js';
import { Refusal } from './refusal.js';

const GV = { group: 'workload.linkerd.io', version: 'v1beta1' };
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The reads and writes registration needs (an API adapter, or a fake in tests). */
export interface MemberStore {
  readGroup(namespace: string, name: string): Promise<WorkloadGroupLike | undefined>;
  readWorkload(namespace: string, name: string): Promise<ExternalWorkloadLike | undefined>;
  /** Creates the workload; resolves false when one with that name already exists (409). */
  create(body: ExternalWorkloadLike): Promise<boolean>;
  patch(namespace: string, name: string, patch: object): Promise<void>;
}

export function createMemberStore(kc: KubeConfig): MemberStore {
  const custom = makeKeepAliveApiClient(kc, CustomObjectsApi);
  const code = (e: unknown) => (e instanceof ApiException ? e.code : (e as { code?: number }).code);
  const read = async <T>(plural: string, namespace: string, name: string): Promise<T | undefined> => {
    try {
      return (await custom.getNamespacedCustomObject({ ...GV, plural, namespace, name })) as T;
    } catch (e) {
      if (code(e) === 404) return undefined;
      throw unavailable(`read ${plural} ${namespace}/${name}`, e);
    }
  };
  return {
    readGroup: (namespace, name) => read('workloadgroups', namespace, name),
    readWorkload: (namespace, name) => read('externalworkloads', namespace, name),
    async create(body) {
      try {
        await custom.createNamespacedCustomObject({ ...GV, plural: 'externalworkloads', namespace: body.metadata.namespace!, body });
        return true;
      } catch (e) {
        if (code(e) === 409) return false;
        throw unavailable(`create ExternalWorkload ${body.metadata.namespace}/${body.metadata.name}`, e);
      }
    },
    async patch(namespace, name, body) {
      try {
        await custom.patchNamespacedCustomObject({ ...GV, plural: 'externalworkloads', namespace, name, body }, MERGE_PATCH);
      } catch (e) {
        throw unavailable(`update ExternalWorkload ${namespace}/${name}`, e);
      }
    },
  };
}

/** Creates or reclaims the member; returns its name. A create that loses a race re-reads and reclaims. */
export async function registerMember(ref: GroupRef, serviceAccount: string, store: MemberStore, log: Logger): Promise<{ name: string; action: 'create' | 'reclaim' | 'keep' }> {
  const name = memberName(ref.group, ref.ip);
  for (let attempt = 0; attempt < 3; attempt++) {
    const plan = planRegistration(ref, serviceAccount, await store.readWorkload(ref.namespace, name));
    if (plan.action === 'keep') return { name, action: 'keep' };
    if (plan.action === 'patch') {
      await store.patch(ref.namespace, name, plan.patch);
      log.info('auto-registered workload reclaimed', { workload: `${ref.namespace}/${name}`, ip: ref.ip });
      return { name, action: 'reclaim' };
    }
    if (await store.create(plan.body)) {
      log.info('workload auto-registered', { workload: `${ref.namespace}/${name}`, group: ref.group, ip: ref.ip });
      return { name, action: 'create' };
    }
  }
  throw new Refusal('api_unavailable', `ExternalWorkload ${ref.namespace}/${name} kept changing while registering it; retry shortly`);
}

export interface AutoRegistrationDeps {
  reviewToken(token: string): Promise<ReviewedToken>;
  store: MemberStore;
  /** The usual decision, with the token review to use (reviewed at most once per request). */
  authorize(input: CertifyInput, reviewToken: (token: string) => Promise<ReviewedToken>): Promise<Entitlement>;
  trustDomain?: string;
  log: Logger;
  onRegistered?: (action: 'create' | 'reclaim' | 'keep') => void;
}

/**
 * Authorizes a Certify request, registering the caller first when it names a group. With a token,
 * the token must be entitled to the group. With a certificate (a VM whose entry was removed while it
 * was away), the certificate must be the one of that very member (its identity and server name).
 * Every refusal after registration carries the member's name, like the names of identity_mismatch.
 */
export function withAutoRegistration(deps: AutoRegistrationDeps): (input: CertifyInput) => Promise<Entitlement> {
  return async (input) => {
    let review: Promise<ReviewedToken> | undefined;
    const reviewOnce = (token: string) => (review ??= deps.reviewToken(token));
    if (!isGroupRef(input.workload)) return deps.authorize(input, reviewOnce);
    const ref = parseGroupRef(input.workload);
    const group = await deps.store.readGroup(ref.namespace, ref.group);
    let serviceAccount: string;
    if (input.caller.token) {
      serviceAccount = checkGroupEntitlement(ref, group, await reviewOnce(input.caller.token));
    } else if (input.caller.certificate) {
      serviceAccount = checkCertificateReclaim(ref, group, input.caller.certificate, deps.trustDomain ?? DEFAULT_TRUST_DOMAIN);
    } else {
      throw new Refusal('no_credentials', `no credentials: to register into WorkloadGroup ${ref.namespace}/${ref.group} send a token of its ServiceAccount (kubectl create token SA -n ${ref.namespace})`);
    }
    const { name, action } = await registerMember(ref, serviceAccount, deps.store, deps.log);
    deps.onRegistered?.(action);
    const registered = `${ref.namespace}/${name}`;
    try {
      return await deps.authorize({ ...input, workload: registered }, reviewOnce);
    } catch (e) {
      if (e instanceof Refusal) throw new Refusal(e.reason, e.message, { ...e.details, [REGISTERED_WORKLOAD_KEY]: registered }, e.internal);
      throw e;
    }
  };
}

/** A certificate may re-register only the member it was issued to: same identity and server name as that member would have. */
function checkCertificateReclaim(ref: GroupRef, group: WorkloadGroupLike | undefined, cert: NonNullable<CertifyInput['caller']['certificate']>, trustDomain: string): string {
  if (!group) throw new Refusal('group_not_found', `WorkloadGroup ${ref.namespace}/${ref.group} does not exist; create it first (kubectl apply -f workload-group.yaml)`);
  const bound = group.metadata.annotations?.[SERVICE_ACCOUNT_ANNOTATION];
  if (!bound) throw new Refusal('group_unbound', `WorkloadGroup ${ref.namespace}/${ref.group} is not bound to a ServiceAccount, so its members cannot be registered`);
  const name = memberName(ref.group, ref.ip);
  const member = effectiveWorkload({ metadata: { name, namespace: ref.namespace, labels: { [GROUP_LABEL]: ref.group }, annotations: { [SERVICE_ACCOUNT_ANNOTATION]: bound } } }, group, trustDomain);
  if (cert.identity !== member.identity || cert.serverName !== member.serverName) {
    throw new Refusal(
      'certificate_mismatch',
      `the client certificate (${cert.identity ?? 'no URI'}, ${cert.serverName ?? 'no DNS name'}) is not a certificate of ${ref.namespace}/${name}; register with a token of the group's ServiceAccount`,
      {},
      `the member has identity ${member.identity}, serverName ${member.serverName}; the group is bound to ServiceAccount ${bound}`,
    );
  }
  return bound;
}
