// Pure: the proxy's credentials as SPIFFE Workload API messages — the X.509-SVID (leaf then
// intermediates, DER), its key (PKCS#8 DER), and the trust bundle (the trust anchors, DER) keyed by
// the trust domain's ID (spiffe://<trust-domain>).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { splitPemBundle } from '../../core/pki.js';
import type { Credentials } from '../types.js';
import type { X509BundlesResponse, X509SVIDResponse } from '../../api/gen/spiffe-workload.js';

/** spiffe://td from spiffe://td/path; throws for a name that is not a SPIFFE ID. */
export function trustDomainId(spiffeId: string): string {
  const m = /^spiffe:\/\/([a-z0-9._-]+)(\/.*)?$/.exec(spiffeId);
  if (!m) throw new Error(`not a SPIFFE ID: ${spiffeId}`);
  return `spiffe://${m[1]}`;
}

function pemsToDer(pems: string[]): Buffer {
  return Buffer.concat(pems.map((p) => new X509Certificate(p).raw));
}

/** The leaf and its chain, once each, leaf first (a files-mode certFile may hold the chain too). */
function svidChainPems(c: Credentials): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of [...splitPemBundle(c.certPem), ...splitPemBundle(c.chainPem)]) {
    const fp = new X509Certificate(p).fingerprint256;
    if (!seen.has(fp)) {
      seen.add(fp);
      out.push(p);
    }
  }
  return out;
}

export function bundleDer(c: Credentials): Buffer {
  return pemsToDer(splitPemBundle(c.trustAnchorsPem));
}

export function x509SvidResponse(c: Credentials): X509SVIDResponse {
  return {
    svids: [
      {
        spiffeId: c.identity,
        x509Svid: pemsToDer(svidChainPems(c)),
        x509SvidKey: createPrivateKey(c.keyPem).export({ type: 'pkcs8', format: 'der' }),
        bundle: bundleDer(c),
        hint: '',
      },
    ],
    crl: [],
    federatedBundles: {},
  };
}

export function x509BundlesResponse(c: Credentials): X509BundlesResponse {
  return { crl: [], bundles: { [trustDomainId(c.identity)]: bundleDer(c) } };
}
