// The identity CA `outpost install` puts in the cluster: imported with the same three flags as
// `outpost up` (--identity-trust-anchors-file, --identity-issuer-cert, --identity-issuer-key) and
// checked like `outpost up` checks them, or generated (trust anchor and issuer, ECDSA P-256; the
// anchor key is not kept, like `linkerd install`).
import { resolve } from 'node:path';
import { OutpostError } from '../core/errors.js';
import { createIntermediateCA, createRootCA, splitPemBundle } from '../core/pki.js';
import { Authority, type CaMaterial } from '../identity/authority.js';
import { ANCHOR_LIFETIME_MS, ISSUER_LIFETIME_MS, readMaterial } from '../identity/ca-material.js';

export interface CaFlags {
  trustAnchorsFile?: string;
  issuerCertFile?: string;
  issuerKeyFile?: string;
}

export async function installCaMaterial(flags: CaFlags, trustDomain: string, now = Date.now()): Promise<{ material: CaMaterial; generated: boolean }> {
  const given = [flags.trustAnchorsFile, flags.issuerCertFile, flags.issuerKeyFile].filter(Boolean).length;
  if (given > 0 && given < 3) {
    throw new OutpostError('INVALID_ARGUMENT', 'importing an identity CA needs all three of --identity-trust-anchors-file, --identity-issuer-cert and --identity-issuer-key', { field: 'identity-trust-anchors-file' });
  }
  if (given === 3) {
    const files = { trustAnchors: resolve(flags.trustAnchorsFile!), issuerCert: resolve(flags.issuerCertFile!), issuerKey: resolve(flags.issuerKeyFile!) };
    const material = readMaterial(files);
    if (!material) throw new OutpostError('INVALID_ARGUMENT', `cannot read the identity CA files ${Object.values(files).join(', ')}`, { field: 'identity-trust-anchors-file' });
    Authority.load(material, trustDomain, now); // the same checks as `outpost up`: chain, key, expiry
    return { material, generated: false };
  }
  const root = await createRootCA({ commonName: 'root.outpost.identity', lifetimeMs: ANCHOR_LIFETIME_MS, now });
  const issuer = await createIntermediateCA(root, { commonName: 'issuer.outpost.identity', lifetimeMs: ISSUER_LIFETIME_MS, now });
  // The bundle as identity reads it back from the mounted ConfigMap and republishes it (one PEM per
  // anchor, newline-terminated): the same bytes, so re-applying the rendered files meets no conflict.
  return { material: { trustAnchorsPem: splitPemBundle(root.certPem).join(''), issuerCertPem: issuer.certPem, issuerKeyPem: issuer.keyPem }, generated: true };
}
