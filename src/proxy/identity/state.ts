// A workload's credentials on disk (DIR/proxy.key and DIR/proxy.crt = leaf + intermediates, both
// 0600) and the checks a certificate must pass before the proxy uses it: chains to the trust
// anchors, matches the key, carries one URI and one DNS name.
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { readIfExists, writePrivateFile } from '../../core/files.js';
import { splitPemBundle } from '../../core/pki.js';
import type { Credentials } from '../types.js';
import { publicKeyDer } from './csr.js';

export const statePaths = (dir: string) => ({ key: join(dir, 'proxy.key'), cert: join(dir, 'proxy.crt'), workload: join(dir, 'workload.json') });

/** What an auto-registered proxy remembers (DIR/workload.json): the name it got for a group and address. */
export interface RegisteredWorkload {
  namespace: string;
  name: string;
  group: string;
  address: string;
}

export function loadRegisteredWorkload(dir: string): RegisteredWorkload | undefined {
  const text = readIfExists(statePaths(dir).workload);
  if (!text) return undefined;
  try {
    const w = JSON.parse(text) as Partial<RegisteredWorkload>;
    return w.namespace && w.name && w.group && w.address ? (w as RegisteredWorkload) : undefined;
  } catch {
    return undefined;
  }
}

export function persistRegisteredWorkload(dir: string, w: RegisteredWorkload): void {
  writePrivateFile(statePaths(dir).workload, `${JSON.stringify(w)}\n`);
}

export interface CertificateFacts {
  identity: string;
  serverName: string;
  notBefore: number;
  notAfter: number;
}

/** Checks a leaf + chain against the key and the anchors; throws an Error saying what is wrong. */
export function inspectCertificate(keyPem: string, certBundlePem: string, trustAnchorsPem: string): CertificateFacts {
  const pems = splitPemBundle(certBundlePem);
  if (pems.length === 0) throw new Error('holds no certificate');
  const chain = pems.map((p) => new X509Certificate(p));
  const leaf = chain[0];
  if (!publicKeyDer(keyPem).equals(leaf.publicKey.export({ type: 'spki', format: 'der' }) as Buffer)) throw new Error('does not match the private key');
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) throw new Error(`certificate ${i + 1} is not signed by the next one`);
  }
  const top = chain[chain.length - 1];
  const anchors = splitPemBundle(trustAnchorsPem).map((p) => new X509Certificate(p));
  if (!anchors.some((a) => top.checkIssued(a) && top.verify(a.publicKey))) throw new Error('does not chain to the trust anchors');
  const sans = (leaf.subjectAltName ?? '').split(', ');
  const identity = sans.find((s) => s.startsWith('URI:'))?.slice(4);
  const serverName = sans.find((s) => s.startsWith('DNS:'))?.slice(4);
  if (!identity || !serverName) throw new Error('lacks the SPIFFE URI or the DNS name');
  return { identity, serverName, notBefore: Date.parse(leaf.validFrom), notAfter: Date.parse(leaf.validTo) };
}

export function loadPersisted(dir: string): { keyPem?: string; certPem?: string } {
  const p = statePaths(dir);
  return { keyPem: readIfExists(p.key), certPem: readIfExists(p.cert) };
}

export function persistKey(dir: string, keyPem: string): void {
  writePrivateFile(statePaths(dir).key, keyPem);
}

export function persistCertificate(dir: string, c: Pick<Credentials, 'certPem' | 'chainPem'>): void {
  writePrivateFile(statePaths(dir).cert, c.certPem + c.chainPem);
}
