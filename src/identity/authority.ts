// The signing authority: trust anchors + issuer (intermediate) loaded and checked together, and the
// two kinds of certificates it issues: workload leaves (from a CSR) and control-plane service certs.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { OutpostError } from '../core/errors.js';
import { splitPemBundle } from '../core/pki.js';
import { controlPlaneServiceNames } from '../core/workloads/reserved-names.js';
import type { ServiceCertificate } from '../core/component.js';
import { children, content, expectTag, oidToString, raw, readTlv, TAG } from './der.js';
import { derToPem, pemToDer, signLeaf, type LeafSigner } from './leaf.js';

/** Clock skew allowed for: leaves start this long before issuance (like Linkerd's 20 s). */
export const CLOCK_SKEW_MS = 20_000;

export interface CaMaterial {
  trustAnchorsPem: string;
  /** The issuer certificate, optionally followed by further intermediates up to an anchor. */
  issuerCertPem: string;
  issuerKeyPem: string;
}

export interface IssuedLeaf {
  leafDer: Buffer;
  /** Intermediates, leaf's issuer first. */
  chainDer: Buffer[];
  notAfter: number;
}

export class Authority {
  readonly issuerNotAfter: number;
  readonly issuerCertificate: X509Certificate;
  private readonly signer: LeafSigner;

  private constructor(
    readonly material: CaMaterial,
    readonly trustDomain: string,
    private readonly chainDer: Buffer[],
    issuer: X509Certificate,
    issuerKey: KeyObject,
  ) {
    this.issuerCertificate = issuer;
    this.issuerNotAfter = Date.parse(issuer.validTo);
    const { name, keyId } = subjectAndKeyId(chainDer[0]);
    this.signer = { issuerName: name, issuerKeyId: keyId, issuerKey, issuerNotAfter: this.issuerNotAfter };
  }

  /** Checks the material (issuer is a CA, chains to an anchor, key matches, ECDSA P-256, unexpired) and loads it. */
  static load(material: CaMaterial, trustDomain: string, now = Date.now()): Authority {
    const anchors = splitPemBundle(material.trustAnchorsPem).map((p) => parseCert(p, 'trust anchors'));
    if (anchors.length === 0) throw invalid('identity-trust-anchors-file', 'the trust anchors bundle holds no certificate');
    const chainPems = splitPemBundle(material.issuerCertPem);
    if (chainPems.length === 0) throw invalid('identity-issuer-cert', 'the issuer certificate file holds no certificate');
    const chain = chainPems.map((p) => parseCert(p, 'issuer certificate'));
    const issuer = chain[0];
    if (!issuer.ca) throw invalid('identity-issuer-cert', `the issuer certificate (${issuer.subject}) is not a CA certificate`);
    if (Date.parse(issuer.validTo) <= now) throw invalid('identity-issuer-cert', `the issuer certificate expired on ${issuer.validTo}`);
    let key: KeyObject;
    try {
      key = createPrivateKey(material.issuerKeyPem);
    } catch {
      throw invalid('identity-issuer-key', 'the issuer key cannot be read (expected a PEM private key)');
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw invalid('identity-issuer-key', 'the issuer key must be ECDSA P-256');
    }
    const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }) as Buffer;
    if (!spki(createPublicKey(key)).equals(spki(issuer.publicKey))) {
      throw invalid('identity-issuer-key', 'the issuer key does not belong to the issuer certificate');
    }
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) {
        throw invalid('identity-issuer-cert', `certificate ${i + 1} of the issuer file is not signed by the next one`);
      }
    }
    const top = chain[chain.length - 1];
    if (!anchors.some((a) => top.checkIssued(a) && top.verify(a.publicKey))) {
      throw invalid('identity-issuer-cert', `the issuer (${issuer.subject.replace(/\n/g, ', ')}) does not chain to any of the trust anchors`);
    }
    // One certificate per PEM block, each ending in a newline: a hand-concatenated bundle
    // ("-----END CERTIFICATE----------BEGIN...") would otherwise break TLS stacks downstream.
    const normalized = { ...material, trustAnchorsPem: splitPemBundle(material.trustAnchorsPem).join('') };
    return new Authority(normalized, trustDomain, chain.map((c) => c.raw), issuer, key);
  }

  trustAnchorsPem(): string {
    return this.material.trustAnchorsPem;
  }

  /** Intermediates as PEM, leaf's issuer first. */
  chainPem(): string {
    return this.chainDer.map((d) => derToPem(d)).join('');
  }

  intermediatesDer(): Buffer[] {
    return this.chainDer;
  }

  /** A workload leaf for a checked CSR's key: SANs exactly identity (URI) and serverName (DNS). */
  issueWorkloadLeaf(req: { spki: Buffer; identity: string; serverName: string; lifetimeMs: number; now: number }): IssuedLeaf {
    const { der, notAfter } = signLeaf(this.signer, {
      spki: req.spki,
      commonName: req.serverName,
      uris: [req.identity],
      dns: [req.serverName],
      notBefore: req.now - CLOCK_SKEW_MS,
      notAfter: req.now + req.lifetimeMs,
    });
    return { leafDer: der, chainDer: this.chainDer, notAfter };
  }

  /**
   * A certificate (with a fresh key) for a control-plane service: spiffe://<td>/ns/outpost/sa/outpost-<service>,
   * DNS <service>.outpost.svc.cluster.local, outpost-<service>.outpost.svc and localhost, IP 127.0.0.1 and the listen address.
   */
  issueServiceCertificate(service: string, opts: { listen: string; lifetimeMs: number; now: number }): ServiceCertificate & { notAfter: number } {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const leaf = this.issueServiceLeaf(service, publicKey.export({ type: 'spki', format: 'der' }) as Buffer, opts);
    const certPem = derToPem(leaf.leafDer);
    return {
      certPem,
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      chainPem: certPem + this.chainPem(),
      notAfter: leaf.notAfter,
    };
  }

  /** The same service certificate for a public key of the caller (a component run apart from identity, docs/adr/0022). */
  issueServiceLeaf(service: string, spki: Buffer, opts: { listen?: string; lifetimeMs: number; now: number }): IssuedLeaf {
    const ips = ['127.0.0.1'];
    if (opts.listen && isIP(opts.listen) && opts.listen !== '0.0.0.0' && opts.listen !== '::' && !ips.includes(opts.listen)) ips.push(opts.listen);
    const names = controlPlaneServiceNames(service, this.trustDomain);
    const { der, notAfter } = signLeaf(this.signer, {
      spki,
      commonName: names.serverName,
      uris: [names.identity],
      dns: names.dns,
      ips,
      notBefore: opts.now - CLOCK_SKEW_MS,
      notAfter: opts.now + opts.lifetimeMs,
    });
    return { leafDer: der, chainDer: this.chainDer, notAfter };
  }
}

function parseCert(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw invalid(what === 'trust anchors' ? 'identity-trust-anchors-file' : 'identity-issuer-cert', `the ${what} file holds a certificate that cannot be parsed`);
  }
}

function invalid(field: string, message: string): OutpostError {
  return new OutpostError('CONFIG_INVALID', `--${field}: ${message}`, { field });
}

/** The subject Name (DER) and subject key identifier of a certificate; the key id falls back to SHA-1 of the public key (RFC 5280 4.2.1.2). */
function subjectAndKeyId(certDer: Buffer): { name: Buffer; keyId: Buffer } {
  const cert = readTlv(certDer, 0);
  const tbs = children(certDer, children(certDer, cert)[0]);
  const offset = tbs[0].tag === 0xa0 ? 1 : 0;
  const name = raw(certDer, tbs[offset + 4]);
  const spki = children(certDer, tbs[offset + 5]);
  let keyId = createHash('sha1').update(content(certDer, spki[1]).subarray(1)).digest();
  const extsWrapper = tbs.find((t) => t.tag === 0xa3);
  if (extsWrapper) {
    for (const ext of children(certDer, children(certDer, extsWrapper)[0])) {
      const parts = children(certDer, ext);
      if (oidToString(content(certDer, parts[0])) === '2.5.29.14') {
        const octets = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'subjectKeyIdentifier');
        keyId = Buffer.from(content(certDer, readTlv(certDer, octets.contentStart, octets.end)));
      }
    }
  }
  return { name: Buffer.from(name), keyId };
}

export { pemToDer, derToPem };
