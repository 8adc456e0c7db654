// Checks a workload's PKCS#10 certificate signing request: DER well-formed, signed by its own key
// (ECDSA P-256 with SHA-256), and asking for exactly two names: the SPIFFE URI and the serverName.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { children, content, DerError, expectTag, oidToString, raw, readTlv, TAG } from './der.js';

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
/** SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66 bytes: 0x00 0x04 X Y) }. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

export interface CheckedCsr {
  /** SubjectPublicKeyInfo, DER, to place in the certificate. */
  spki: Buffer;
}

export interface RequestedNames {
  uris: string[];
  dns: string[];
  /** Names of any other kind (IP, email, directory name...), described for the error message. */
  others: string[];
}

/** Why a CSR is refused; the message is shown to the caller. */
export class CsrRefusal extends Error {}

interface ParsedCsr {
  info: Buffer;
  spki: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  names: RequestedNames;
}

export function parseCsr(der: Uint8Array): ParsedCsr {
  try {
    const top = expectTag(readTlv(der, 0), TAG.SEQUENCE, 'CSR');
    if (top.end !== der.length) throw new DerError('trailing bytes');
    const [infoT, algT, sigT] = children(der, top);
    const infoTlv = expectTag(infoT, TAG.SEQUENCE, 'certificationRequestInfo');
    const [, , spkiT, attrsT] = children(der, infoTlv);
    expectTag(spkiT, TAG.SEQUENCE, 'subjectPublicKeyInfo');
    const algOid = expectTag(children(der, expectTag(algT, TAG.SEQUENCE, 'signatureAlgorithm'))[0], TAG.OID, 'signatureAlgorithm');
    const sigBits = content(der, expectTag(sigT, TAG.BIT_STRING, 'signature'));
    const names: RequestedNames = { uris: [], dns: [], others: [] };
    if (attrsT && attrsT.tag === 0xa0) {
      for (const attr of children(der, attrsT)) {
        const [typeT, valuesT] = children(der, expectTag(attr, TAG.SEQUENCE, 'attribute'));
        if (oidToString(content(der, expectTag(typeT, TAG.OID, 'attribute type'))) !== OID_EXTENSION_REQUEST) continue;
        for (const exts of children(der, expectTag(valuesT, TAG.SET, 'extensionRequest'))) {
          for (const ext of children(der, expectTag(exts, TAG.SEQUENCE, 'extensions'))) {
            const parts = children(der, expectTag(ext, TAG.SEQUENCE, 'extension'));
            if (oidToString(content(der, expectTag(parts[0], TAG.OID, 'extension id'))) !== OID_SUBJECT_ALT_NAME) continue;
            const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extension value');
            collectNames(der, readTlv(der, value.contentStart, value.end), names);
          }
        }
      }
    }
    return { info: raw(der, infoTlv), spki: raw(der, spkiT), signatureAlgorithm: oidToString(content(der, algOid)), signature: sigBits.subarray(1), names };
  } catch (e) {
    if (e instanceof DerError) throw new CsrRefusal(`the certificate signing request is not valid DER PKCS#10 (${e.message})`);
    throw e;
  }
}

function collectNames(der: Uint8Array, generalNames: ReturnType<typeof readTlv>, into: RequestedNames): void {
  for (const name of children(der, expectTag(generalNames, TAG.SEQUENCE, 'subjectAltName'))) {
    const value = content(der, name);
    if (name.tag === 0x86) into.uris.push(value.toString('latin1'));
    else if (name.tag === 0x82) into.dns.push(value.toString('latin1'));
    else if (name.tag === 0x87) into.others.push(`IP ${value.length === 4 ? [...value].join('.') : value.toString('hex')}`);
    else if (name.tag === 0x81) into.others.push(`email ${value.toString('latin1')}`);
    else into.others.push(`a name of type [${name.tag & 0x1f}]`);
  }
}

/**
 * Parses and checks a CSR against the names the workload is entitled to. Throws CsrRefusal with a
 * message that says what to fix.
 */
export function checkCsr(der: Uint8Array, expected: { identity: string; serverName: string }, opts: { provenKey?: Uint8Array } = {}): CheckedCsr {
  const csr = parseCsr(der);
  // Fast path: an uncompressed P-256 key is a fixed prefix and the point; importing the point as a
  // JWK costs OpenSSL about half of decoding the SPKI. Anything else goes the general way.
  const isP256 = csr.spki.length === P256_SPKI_PREFIX.length + 65 && csr.spki.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX) && csr.spki[P256_SPKI_PREFIX.length] === 0x04;
  // A renewing caller proved possession of its certificate's key in the TLS handshake; when the CSR
  // carries that same key, its signature adds nothing (and the TLS channel protects its content).
  const proven = isP256 && opts.provenKey !== undefined && csr.spki.subarray(P256_SPKI_PREFIX.length).equals(opts.provenKey);
  if (!proven) verifyProofOfPossession(csr, isP256);
  checkNames(csr.names, expected);
  return { spki: csr.spki };
}

function verifyProofOfPossession(csr: ParsedCsr, isP256: boolean): void {
  let publicKey: KeyObject;
  try {
    const point = csr.spki.subarray(P256_SPKI_PREFIX.length + 1);
    publicKey = isP256
      ? createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(0, 32).toString('base64url'), y: point.subarray(32).toString('base64url') }, format: 'jwk' })
      : createPublicKey({ key: csr.spki, format: 'der', type: 'spki' });
  } catch {
    throw new CsrRefusal('the certificate signing request carries a public key that cannot be read');
  }
  const details = isP256 ? undefined : publicKey.asymmetricKeyDetails;
  if (details && (publicKey.asymmetricKeyType !== 'ec' || details.namedCurve !== 'prime256v1')) {
    const kind = publicKey.asymmetricKeyType === 'ec' ? `EC ${details?.namedCurve}` : (publicKey.asymmetricKeyType ?? 'unknown').toUpperCase();
    throw new CsrRefusal(`the certificate signing request uses an ${kind} key; Outpost issues only ECDSA P-256 certificates`);
  }
  if (csr.signatureAlgorithm !== OID_ECDSA_SHA256) {
    throw new CsrRefusal(`the certificate signing request is signed with algorithm ${csr.signatureAlgorithm}; use ECDSA with SHA-256`);
  }
  if (!verify('sha256', csr.info, publicKey, csr.signature)) {
    throw new CsrRefusal('the certificate signing request signature does not verify with its own public key (corrupted or tampered)');
  }
}

function checkNames(names: RequestedNames, expected: { identity: string; serverName: string }): void {
  const { uris, dns, others } = names;
  const wanted = `exactly the URI ${expected.identity} and the DNS name ${expected.serverName}`;
  if (others.length > 0) throw new CsrRefusal(`the certificate signing request asks for ${others.join(', ')}; it may ask for ${wanted}`);
  const extraUris = uris.filter((u) => u !== expected.identity);
  const extraDns = dns.filter((d) => d !== expected.serverName);
  if (extraUris.length || extraDns.length) {
    const extra = [...extraUris.map((u) => `URI ${u}`), ...extraDns.map((d) => `DNS ${d}`)].join(', ');
    throw new CsrRefusal(`the certificate signing request asks for ${extra}, which this workload is not entitled to; it may ask for ${wanted}`);
  }
  if (uris.length !== 1 || dns.length !== 1) {
    throw new CsrRefusal(`the certificate signing request must ask for ${wanted} (it asks for ${uris.length} URI and ${dns.length} DNS names)`);
  }
}
