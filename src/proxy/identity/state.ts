// A workload's credentials on disk (DIR/proxy.key and DIR/proxy.crt = leaf + intermediates, both
// 0600), the record of which workload they were issued for (DIR/binding.json), the lock a running
// proxy holds on DIR (DIR/proxy.lock, its pid), and the checks a certificate must pass before the
// proxy uses it: chains to the trust anchors, matches the key, carries one URI and one DNS name.
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { OutpostError } from '../../core/errors.js';
import { mkdirSync } from 'node:fs';
import { readIfExists, writePrivateFile } from '../../core/files.js';
import { takePidLock } from '../../core/pid-lock.js';
import { splitPemBundle } from '../../core/pki.js';
import type { Credentials } from '../types.js';
import { publicKeyDer } from '../../core/identity/csr.js';

export const statePaths = (dir: string) => ({
  key: join(dir, 'proxy.key'),
  cert: join(dir, 'proxy.crt'),
  workload: join(dir, 'workload.json'),
  binding: join(dir, 'binding.json'),
  lock: join(dir, 'proxy.lock'),
  usedTokens: join(dir, 'used-tokens'),
});

/** Which workload the persisted credentials were issued for ("namespace/name", or "namespace/group:G@ADDRESS" for a group member). */
export interface StateBinding {
  workload: string;
  identity: string;
  serverName: string;
}

export function loadBinding(dir: string): StateBinding | undefined {
  const text = readIfExists(statePaths(dir).binding);
  if (!text) return undefined;
  try {
    const b = JSON.parse(text) as Partial<StateBinding>;
    return b.workload && b.identity && b.serverName ? (b as StateBinding) : undefined;
  } catch {
    return undefined;
  }
}

export function persistBinding(dir: string, b: StateBinding): void {
  writePrivateFile(statePaths(dir).binding, `${JSON.stringify(b)}\n`);
}

/** Locks DIR for this process: a second proxy on the same state dir fails with one clear line (the one this proxy replaces, `predecessor`, hands it over). */
export function lockStateDir(dir: string, predecessor?: number): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = statePaths(dir).lock;
  return takePidLock(
    file,
    (pid) =>
      new OutpostError('CONFIG_INVALID', `identity.dir ${dir} is in use by another proxy (pid ${pid}, ${file}); give each proxy its own identity.dir`, {
        field: 'identity.dir',
        hint: 'two proxies never share a state dir: each holds one workload\'s key and certificate',
      }),
    predecessor,
  );
}

const sha256 = (text: string) => createHash('sha256').update(text.trim()).digest('hex');

/** True when this bootstrap token already enrolled this state dir (its hash is in DIR/used-tokens). */
export function tokenAlreadyUsed(dir: string, token: string): boolean {
  return (readIfExists(statePaths(dir).usedTokens) ?? '').split('\n').includes(sha256(token));
}

/** Records a token as used (its hash only: the token itself is a secret). */
export function recordUsedToken(dir: string, token: string): void {
  const known = (readIfExists(statePaths(dir).usedTokens) ?? '').split('\n').filter(Boolean);
  if (!known.includes(sha256(token))) writePrivateFile(statePaths(dir).usedTokens, [...known, sha256(token)].join('\n') + '\n');
}

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
