// Certificates for Outpost: ECDSA P-256 keys, self-signed roots, intermediates and leaves, in PEM.
// Used for the API server's serving certificate, the identity CA and test fixtures.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, randomBytes, createPrivateKey } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface Sans {
  dns?: string[];
  ips?: string[];
  uris?: string[];
}

export interface CertificateAuthority extends KeyPairPem {
  /** The parsed certificate and key, for issuing. */
  cert: x509.X509Certificate;
  key: CryptoKey;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

export async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as unknown as webcrypto.CryptoKey));
  // Re-encode through node so the PEM is the standard "PRIVATE KEY" form that OpenSSL and Node accept.
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
}

export async function importKeyPem(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return (await webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign'])) as unknown as CryptoKey;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  return b.toString('hex');
}

/** URIs first: a Linkerd proxy takes a peer's first SAN as its identity, and SPIFFE's is the URI. */
function sanExtension(sans: Sans): x509.SubjectAlternativeNameExtension | undefined {
  const names: x509.JsonGeneralName[] = [
    ...(sans.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(sans.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(sans.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  return names.length ? new x509.SubjectAlternativeNameExtension(names, false) : undefined;
}

/** A self-signed root CA (trust anchor). */
export async function createRootCA(opts: { commonName: string; lifetimeMs: number; now?: number }): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const now = opts.now ?? Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.commonName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + opts.lifetimeMs),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey, certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** An intermediate CA (issuer) signed by `parent`. */
export async function createIntermediateCA(parent: CertificateAuthority, opts: { commonName: string; lifetimeMs: number; now?: number }): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const now = opts.now ?? Date.now();
  const notAfter = Math.min(now + opts.lifetimeMs, parent.cert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.commonName}`,
    issuer: parent.cert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey: parent.key,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(parent.cert),
    ],
  });
  return { cert, key: keys.privateKey, certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

export interface LeafOptions {
  commonName: string;
  sans: Sans;
  lifetimeMs: number;
  now?: number;
  /** Defaults to server and client auth. */
  usages?: ('server' | 'client')[];
  /** Use this public key (e.g. from a CSR) instead of generating a key pair. */
  publicKey?: CryptoKey;
}

/** A leaf certificate signed by `issuer`; never outlives the issuer. Returns a key only if it generated one. */
export async function issueLeaf(issuer: CertificateAuthority, opts: LeafOptions): Promise<{ certPem: string; keyPem?: string; cert: x509.X509Certificate }> {
  const keys = opts.publicKey ? undefined : await generateKeys();
  const publicKey = opts.publicKey ?? keys!.publicKey;
  const now = opts.now ?? Date.now();
  const notAfter = Math.min(now + opts.lifetimeMs, issuer.cert.notAfter.getTime());
  const usages = opts.usages ?? ['server', 'client'];
  const ext: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(
      usages.map((u) => (u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth)),
      false,
    ),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.cert),
  ];
  const san = sanExtension(opts.sans);
  if (san) ext.push(san);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.commonName}`,
    issuer: issuer.cert.subject,
    notBefore: new Date(now - 20_000),
    notAfter: new Date(notAfter),
    publicKey,
    signingKey: issuer.key,
    signingAlgorithm: ALG,
    extensions: ext,
  });
  return { cert, certPem: cert.toString('pem'), keyPem: keys ? await exportKeyPem(keys.privateKey) : undefined };
}

export async function loadCA(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  return { cert, key: await importKeyPem(keyPem), certPem: cert.toString('pem'), keyPem };
}

/** Splits a PEM bundle into its certificates. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((s) => s + '\n') ?? [];
}

export { x509 };
