// The identity authority of a component run apart from identity (its own `outpost up --components`
// process, its own Deployment: docs/adr/0022): serving certificates come from the identity service
// over the network (Certify, the proxies' call), asked with the component's own ServiceAccount token,
// and the trust anchors from the trust-roots ConfigMap identity publishes. renewingServerCredentials
// renews through it exactly as through the in-process authority.
import { X509Certificate } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { IdentityAuthority, ServiceCertificate } from '../core/component.js';
import { OutpostError } from '../core/errors.js';
import { certifyOnce, CertifyCallError } from '../api/identity/certify-call.js';
import { createCsr, generateWorkloadKey } from '../core/identity/csr.js';
import type { Logger } from '../core/log.js';
import { splitPemBundle } from '../core/pki.js';
import { CONTROL_PLANE_NAMESPACE, controlPlaneServiceNames } from '../core/workloads/reserved-names.js';
import { TRUST_ROOTS_CONFIGMAP, TRUST_ROOTS_KEY } from '../identity/kube.js';

/** How often the trust anchors are re-read (a CA rotation reaches the component within this). */
export const TRUST_ROOTS_REFRESH_MS = 60_000;

export interface RemoteIdentity extends IdentityAuthority {
  stop(): void;
}

export interface RemoteIdentityOptions {
  /** host:port of the identity service (--identity-address). */
  address: string;
  /** The component's own credentials: its API access and the token it certifies with. */
  kubeConfig: KubeConfig;
  trustDomain: string;
  clock: Clock;
  log: Logger;
  refreshMs?: number;
  /** How long to wait for the trust-roots ConfigMap at start (identity may still be publishing it). */
  waitMs?: number;
}

export async function connectRemoteIdentity(opts: RemoteIdentityOptions): Promise<RemoteIdentity> {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const readAnchors = async (): Promise<string> => {
    const cm = await core.readNamespacedConfigMap({ name: TRUST_ROOTS_CONFIGMAP, namespace: CONTROL_PLANE_NAMESPACE });
    const bundle = cm.data?.[TRUST_ROOTS_KEY] ?? '';
    if (splitPemBundle(bundle).length === 0) throw new Error(`ConfigMap ${CONTROL_PLANE_NAMESPACE}/${TRUST_ROOTS_CONFIGMAP} holds no certificate under ${TRUST_ROOTS_KEY}`);
    return bundle;
  };
  let anchors = '';
  const deadline = opts.clock.now() + (opts.waitMs ?? 30_000);
  for (;;) {
    try {
      anchors = await readAnchors();
      break;
    } catch (e) {
      if (opts.clock.now() >= deadline) {
        throw new OutpostError('CONFIG_INVALID', `--identity-address: cannot read the trust anchors (ConfigMap ${CONTROL_PLANE_NAMESPACE}/${TRUST_ROOTS_CONFIGMAP}): ${(e as Error).message}`, { field: 'identity-address', hint: 'start the identity component first (it publishes the trust roots)' });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  let timer: TimerHandle | undefined;
  let stopped = false;
  const refresh = () => {
    if (stopped) return;
    readAnchors().then(
      (next) => {
        if (next !== anchors) opts.log.info('the trust anchors changed', { configMap: `${CONTROL_PLANE_NAMESPACE}/${TRUST_ROOTS_CONFIGMAP}` });
        anchors = next;
      },
      (e) => opts.log.warn('could not re-read the trust anchors; keeping the current ones', { error: (e as Error).message }),
    ).finally(() => {
      if (stopped) return;
      timer = opts.clock.setTimeout(refresh, opts.refreshMs ?? TRUST_ROOTS_REFRESH_MS);
      timer.unref?.();
    });
  };
  timer = opts.clock.setTimeout(refresh, opts.refreshMs ?? TRUST_ROOTS_REFRESH_MS);
  timer.unref?.();

  const token = async (): Promise<string> => {
    const req: { headers?: Record<string, unknown> } = {};
    await opts.kubeConfig.applyToHTTPSOptions(req as never);
    const auth = String(req.headers?.Authorization ?? req.headers?.authorization ?? '');
    if (!auth.startsWith('Bearer ')) {
      throw new OutpostError('CONFIG_INVALID', '--identity-address: the component has no ServiceAccount token to certify with (run in a pod, or with --kubeconfig and --component-credentials=service-accounts)', { field: 'identity-address' });
    }
    return auth.slice('Bearer '.length);
  };

  return {
    trustDomain: opts.trustDomain,
    trustAnchorsPem: () => anchors,
    async issueServiceCertificate(service: string): Promise<ServiceCertificate> {
      const names = controlPlaneServiceNames(service, opts.trustDomain);
      const keyPem = generateWorkloadKey();
      const csr = await createCsr(keyPem, { identity: names.identity, serverName: names.serverName });
      let res;
      try {
        res = await certifyOnce({ addr: opts.address, trustAnchorsPem: anchors }, { identity: names.identity, token: await token(), csr, workload: `${CONTROL_PLANE_NAMESPACE}/${service}` });
      } catch (e) {
        if (e instanceof CertifyCallError) {
          throw new OutpostError(e.unreachable ? 'API_UNREACHABLE' : 'CONFIG_INVALID', `--identity-address: the identity service at ${opts.address} issued no certificate for ${service}: ${e.message}${e.reason ? ` (${e.reason})` : ''}`, { field: 'identity-address', cause: e });
        }
        throw e;
      }
      const certPem = new X509Certificate(res.leafDer).toString();
      const chainPem = certPem + res.intermediatesDer.map((d) => new X509Certificate(d).toString()).join('');
      return { certPem, keyPem, chainPem };
    },
    stop() {
      stopped = true;
      if (timer) opts.clock.clearTimeout(timer);
    },
  };
}
