// Encodes and signs leaf certificates directly in DER: ECDSA P-256 with SHA-256, server and client
// auth, SANs as given. Fast on purpose (the identity service signs thousands per second).
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { oid, seq, time, tlv, TAG, unsignedInteger } from './der.js';

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const V3 = tlv(0xa0, tlv(TAG.INTEGER, Buffer.from([2])));
const TRUE = tlv(TAG.BOOLEAN, Buffer.from([0xff]));

const BASIC_CONSTRAINTS_NOT_CA = seq(oid('2.5.29.19'), TRUE, tlv(TAG.OCTET_STRING, seq()));
// digitalSignature (bit 0) + keyEncipherment (bit 2): 0b1010_0000 with 5 unused bits.
const KEY_USAGE = seq(oid('2.5.29.15'), TRUE, tlv(TAG.OCTET_STRING, tlv(TAG.BIT_STRING, Buffer.from([0x05, 0xa0]))));
const OID_AUTHORITY_KEY_ID = oid('2.5.29.35');
const OID_SUBJECT_ALT_NAME = oid('2.5.29.17');
const OID_COMMON_NAME = oid('2.5.4.3');
const EXT_KEY_USAGE_SERVER_CLIENT = seq(oid('2.5.29.37'), tlv(TAG.OCTET_STRING, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))));

export interface LeafSigner {
  /** The issuer's subject Name, DER, copied into the leaf's issuer field. */
  issuerName: Buffer;
  /** The issuer's subject key identifier, for the leaf's authority key identifier. */
  issuerKeyId: Buffer;
  issuerKey: KeyObject;
  issuerNotAfter: number;
}

export interface LeafRequest {
  /** SubjectPublicKeyInfo (DER) of the key to certify. */
  spki: Buffer;
  commonName: string;
  uris: string[];
  dns: string[];
  ips?: string[];
  notBefore: number;
  notAfter: number;
}

function subjectName(commonName: string): Buffer {
  // X.520 caps a CN at 64 characters; the SANs carry the real names anyway.
  const cn = commonName.slice(0, 64);
  return seq(tlv(TAG.SET, seq(OID_COMMON_NAME, tlv(TAG.UTF8, Buffer.from(cn, 'utf8')))));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write 8 groups of 16 bits.
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** In this order: URIs (the SPIFFE ID, which Linkerd reads as the first SAN), DNS names, IPs. */
function subjectAltNames(req: LeafRequest): Buffer {
  const names = [
    ...req.uris.map((u) => tlv(0x86, Buffer.from(u, 'latin1'))),
    ...req.dns.map((d) => tlv(0x82, Buffer.from(d, 'latin1'))),
    ...(req.ips ?? []).map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  return seq(OID_SUBJECT_ALT_NAME, tlv(TAG.OCTET_STRING, seq(...names)));
}

/** Signs a leaf certificate; notAfter is capped at the issuer's own expiry. Returns the DER. */
export function signLeaf(signer: LeafSigner, req: LeafRequest): { der: Buffer; notAfter: number } {
  const notAfter = Math.min(req.notAfter, signer.issuerNotAfter);
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const extensions = [
    BASIC_CONSTRAINTS_NOT_CA,
    KEY_USAGE,
    EXT_KEY_USAGE_SERVER_CLIENT,
    seq(OID_AUTHORITY_KEY_ID, tlv(TAG.OCTET_STRING, seq(tlv(0x80, signer.issuerKeyId)))),
    subjectAltNames(req),
  ];
  const tbs = seq(
    V3,
    unsignedInteger(serial),
    ECDSA_SHA256,
    signer.issuerName,
    seq(time(req.notBefore), time(notAfter)),
    subjectName(req.commonName),
    req.spki,
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, signer.issuerKey);
  const der = seq(tbs, ECDSA_SHA256, tlv(TAG.BIT_STRING, Buffer.from([0]), signature));
  // Times in DER have second precision: report what the certificate says.
  return { der, notAfter: Math.floor(notAfter / 1000) * 1000 };
}

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
