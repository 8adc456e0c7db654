// A workload's key and certificate signing request: ECDSA P-256 key (PKCS#8 PEM) and a DER PKCS#10
// request whose SANs are exactly the SPIFFE identity (URI) and the serverName (DNS).
import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { x509 } from '../pki.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export function generateWorkloadKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The DER SubjectPublicKeyInfo of a private key, to compare with a certificate's. */
export function publicKeyDer(keyPem: string): Buffer {
  return createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' }) as Buffer;
}

/** A CSR for `names` signed by `keyPem`; with no names (identity not known yet) the request carries no SANs. */
export async function createCsr(keyPem: string, names?: { identity: string; serverName: string }): Promise<Buffer> {
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey('pkcs8', createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' }), ALG, false, ['sign']);
  const publicKey = await subtle.importKey('spki', publicKeyDer(keyPem), ALG, true, ['verify']);
  const extensions = names
    ? [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: names.identity }, { type: 'dns', value: names.serverName }], false)]
    : [];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${(names?.serverName ?? 'outpost-workload').slice(0, 64)}`,
    keys: { privateKey, publicKey } as unknown as CryptoKeyPair,
    signingAlgorithm: ALG,
    extensions,
  });
  return Buffer.from(csr.rawData);
}
