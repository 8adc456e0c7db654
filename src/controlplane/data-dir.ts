// The control plane's data dir: created 0700 on first start with the API's serving certificate,
// the admin credential, the ServiceAccount token signing key and a kubeconfig; locked while a
// control plane runs so that a second `outpost up` on the same dir fails at once.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { OutpostError } from '../core/errors.js';
import { takePidLock } from '../core/pid-lock.js';
import { ensurePrivateDir, readIfExists, writePrivateFile, writePublicFile } from '../core/files.js';
import { createRootCA, issueLeaf, loadCA } from '../core/pki.js';

export interface DataDirMaterial {
  apiCaPem: string;
  apiCertPem: string;
  apiKeyPem: string;
  adminToken: string;
  serviceAccountKeyPem: string;
}

export const paths = (dir: string) => ({
  lock: join(dir, 'outpost.lock'),
  db: join(dir, 'state.db'),
  apiCa: join(dir, 'pki', 'api-ca.crt'),
  apiCaKey: join(dir, 'pki', 'api-ca.key'),
  apiCert: join(dir, 'pki', 'api.crt'),
  apiKey: join(dir, 'pki', 'api.key'),
  adminToken: join(dir, 'admin-token'),
  saKey: join(dir, 'pki', 'service-account.key'),
  kubeconfig: join(dir, 'kubeconfig'),
});

/** Takes the data dir's lock, or fails naming the process that holds it. Returns a release function. */
export function lockDataDir(dir: string): () => void {
  return takePidLock(paths(dir).lock, (pid) => new OutpostError('DATA_DIR_LOCKED', pid ? `the data dir ${dir} is in use by a running control plane (pid ${pid})` : `could not lock ${dir}`));
}

/** Creates what is missing in the data dir and returns the material. Re-issues the serving cert if the listen address changed. */
export async function prepareDataDir(dir: string, listen: string): Promise<DataDirMaterial> {
  ensurePrivateDir(dir);
  const st = statSync(dir);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new OutpostError('DATA_DIR_UNSAFE', `the data dir ${dir} is owned by uid ${st.uid}, not by you`);
  }
  const p = paths(dir);
  let caPem = readIfExists(p.apiCa);
  let caKeyPem = readIfExists(p.apiCaKey);
  if (!caPem || !caKeyPem) {
    const ca = await createRootCA({ commonName: 'outpost-api-ca', lifetimeMs: 10 * 365 * 86_400_000 });
    caPem = ca.certPem;
    caKeyPem = ca.keyPem;
    writePrivateFile(p.apiCaKey, caKeyPem);
    writePublicFile(p.apiCa, caPem);
  }
  const ips = [...new Set(['127.0.0.1', ...(isIP(listen) && listen !== '0.0.0.0' && listen !== '::' ? [listen] : [])])];
  let certPem = readIfExists(p.apiCert);
  let keyPem = readIfExists(p.apiKey);
  if (!certPem || !keyPem || !servingCertCovers(certPem, ips)) {
    const ca = await loadCA(caPem, caKeyPem);
    const leaf = await issueLeaf(ca, { commonName: 'outpost-apiserver', sans: { dns: ['localhost', 'kubernetes.default.svc'], ips }, lifetimeMs: 365 * 86_400_000, usages: ['server'] });
    certPem = leaf.certPem;
    keyPem = leaf.keyPem!;
    writePrivateFile(p.apiKey, keyPem);
    writePublicFile(p.apiCert, certPem);
  }
  let adminToken = readIfExists(p.adminToken)?.trim();
  if (!adminToken) {
    adminToken = randomBytes(32).toString('base64url');
    writePrivateFile(p.adminToken, adminToken + '\n');
  }
  let saKey = readIfExists(p.saKey);
  if (!saKey) {
    saKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writePrivateFile(p.saKey, saKey);
  }
  return { apiCaPem: caPem, apiCertPem: certPem, apiKeyPem: keyPem, adminToken, serviceAccountKeyPem: saKey };
}

function servingCertCovers(certPem: string, ips: string[]): boolean {
  try {
    const c = new X509Certificate(certPem);
    const san = c.subjectAltName ?? '';
    return ips.every((ip) => san.includes(`IP Address:${ip}`)) && new Date(c.validTo).getTime() > Date.now() + 7 * 86_400_000;
  } catch {
    return false;
  }
}

/** A kubeconfig with full TLS verification (the API CA embedded) and the admin token. */
export function kubeconfigYaml(server: string, caPem: string, token: string, context = 'outpost'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${context}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
    'users:',
    `- name: ${context}-admin`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${context}`,
    '  context:',
    `    cluster: ${context}`,
    `    user: ${context}-admin`,
    '    namespace: default',
    `current-context: ${context}`,
    '',
  ].join('\n');
}

export function writeKubeconfig(dir: string, server: string, m: DataDirMaterial): string {
  const p = paths(dir).kubeconfig;
  writePrivateFile(p, kubeconfigYaml(server, m.apiCaPem, m.adminToken));
  return p;
}

export function dataDirExists(dir: string): boolean {
  return existsSync(dir);
}
