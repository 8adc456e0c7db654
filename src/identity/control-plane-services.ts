// Serving certificates of control-plane components run apart from identity (docs/adr/0022): a
// request for workload `outpost/<service>` is decided here, never by the workload path (which
// refuses namespace `outpost` outright, ADR 0016). Only a token of the one ServiceAccount that runs
// the service (CONTROL_PLANE_SERVICE_ACCOUNTS) may ask, and only for that service's names; identity's
// own certificate is never issued to a caller. The token is reusable: it is the component's API
// credential, re-minted (or rotated by the kubelet) and presented again at every renewal.
import type { EffectiveWorkload } from '../core/workloads/effective.js';
import { CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE_ACCOUNTS, controlPlaneServiceNames } from '../core/workloads/reserved-names.js';
import type { CertifyInput, Entitlement, ReviewedToken } from './certify.js';
import { checkCsr, CsrRefusal } from './csr-check.js';
import { EXPECTED_IDENTITY_KEY, EXPECTED_SERVER_NAME_KEY, Refusal } from './refusal.js';

type Authorize = (input: CertifyInput) => Promise<Entitlement>;

/** Decides requests for `outpost/<service>`; every other request goes to `next` unchanged. */
export function withControlPlaneServices(opts: { trustDomain: string; reviewToken: (token: string) => Promise<ReviewedToken>; next: Authorize }): Authorize {
  return async (input) => {
    const [namespace, service, ...rest] = input.workload.split('/');
    if (namespace !== CONTROL_PLANE_NAMESPACE) return opts.next(input);
    const ref = `${CONTROL_PLANE_NAMESPACE}/${service ?? ''}`;
    const owner = rest.length === 0 && service ? CONTROL_PLANE_SERVICE_ACCOUNTS[service] : undefined;
    if (!owner) {
      throw new Refusal('identity_not_allowed', `namespace ${CONTROL_PLANE_NAMESPACE} is the control plane's; no certificate is issued for ${input.workload} (control-plane services: ${Object.keys(CONTROL_PLANE_SERVICE_ACCOUNTS).join(', ')}) — create workloads in another namespace`);
    }
    const token = input.caller.token;
    if (!token) throw new Refusal('no_credentials', `the certificate of control-plane service ${ref} is issued only for a token of ServiceAccount ${CONTROL_PLANE_NAMESPACE}/${owner}`);
    const sa = await opts.reviewToken(token);
    if (sa.namespace !== CONTROL_PLANE_NAMESPACE || sa.serviceAccount !== owner) {
      throw new Refusal('identity_not_allowed', `the token belongs to ServiceAccount ${sa.namespace}/${sa.serviceAccount}; the certificate of control-plane service ${ref} is issued only to ServiceAccount ${CONTROL_PLANE_NAMESPACE}/${owner}`);
    }
    const names = controlPlaneServiceNames(service, opts.trustDomain);
    if (input.identity !== names.identity) {
      const asked = input.identity ? `identity ${input.identity} was requested, but` : 'no identity was requested;';
      throw new Refusal('identity_mismatch', `${asked} control-plane service ${ref} has identity ${names.identity} (serverName ${names.serverName})`, { [EXPECTED_IDENTITY_KEY]: names.identity, [EXPECTED_SERVER_NAME_KEY]: names.serverName });
    }
    let spki: Buffer;
    try {
      spki = checkCsr(input.csr, { identity: names.identity, serverName: names.serverName }).spki;
    } catch (e) {
      if (e instanceof CsrRefusal) throw new Refusal('csr_invalid', e.message);
      throw e;
    }
    const workload: EffectiveWorkload = { namespace: CONTROL_PLANE_NAMESPACE, name: service, labels: {}, annotations: {}, identity: names.identity, serverName: names.serverName, serviceAccount: owner, ips: [], ports: [], probes: [] };
    return { kind: 'bootstrap', workload, spki, reusableToken: true, service };
  };
}
