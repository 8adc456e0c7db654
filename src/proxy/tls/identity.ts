// TLS identity helpers: SPIFFE ids from certificates, TLS contexts built once per credentials version,
// and the check that a peer carries exactly the identity discovery gave.
import { createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Credentials } from '../types.js';

/** URI SANs from Node's `subjectaltname` string ("URI:spiffe://..., DNS:x"). */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  for (const part of subjectAltName.split(', ')) if (part.startsWith('URI:')) out.push(part.slice(4));
  return out;
}

export function dnsSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName.split(', ').filter((p) => p.startsWith('DNS:')).map((p) => p.slice(4));
}

/** The client's identity: the first URI SAN of a verified peer certificate, cached on the socket. */
export function peerIdentity(socket: TLSSocket): string | undefined {
  const cached = (socket as TLSSocket & { outpostPeerId?: string | null }).outpostPeerId;
  if (cached !== undefined) return cached ?? undefined;
  let id: string | undefined;
  if (socket.authorized) id = uriSans((socket.getPeerCertificate() as PeerCertificate | null)?.subjectaltname)[0];
  (socket as TLSSocket & { outpostPeerId?: string | null }).outpostPeerId = id ?? null;
  return id;
}

/** checkServerIdentity for outbound: the peer must carry exactly `expected` as a URI SAN. */
export function expectIdentity(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const ids = uriSans(cert.subjectaltname);
    if (ids.includes(expected)) return undefined;
    const err = new Error(`peer identity ${ids.join(',') || '<none>'} is not the expected ${expected}`) as Error & { code: string };
    err.code = 'ERR_OUTPOST_PEER_IDENTITY';
    return err;
  };
}

/** Reads identity, server name and expiry from a PEM bundle (leaf first). */
export function describeLeaf(certPem: string): { identity: string; serverName: string; notAfter: number; chainPem: string; leafPem: string } {
  const blocks = certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no certificate in PEM');
  const leaf = new X509Certificate(blocks[0]!);
  const identity = uriSans(leaf.subjectAltName)[0];
  if (!identity) throw new Error('certificate has no URI SAN (SPIFFE id)');
  return {
    identity,
    serverName: dnsSans(leaf.subjectAltName)[0] ?? '',
    notAfter: Date.parse(leaf.validTo),
    leafPem: blocks[0] + '\n',
    chainPem: blocks.slice(1).map((b) => b + '\n').join(''),
  };
}

/** TLS settings shared by the inbound and tap servers (client certificates required and verified). */
export function serverTlsOptions(c: Credentials) {
  return {
    cert: c.certPem + c.chainPem,
    key: c.keyPem,
    ca: c.trustAnchorsPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3' as const,
  };
}

/** A client context, built once per credentials version and shared by every outbound connection. */
export function clientContext(c: Credentials): SecureContext {
  return createSecureContext({ cert: c.certPem + c.chainPem, key: c.keyPem, ca: c.trustAnchorsPem, minVersion: 'TLSv1.3' });
}
