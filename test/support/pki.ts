// Test PKI: a throwaway trust anchor and issuer made by the code the identity service signs with
// (src/core/pki.ts), or the issuer of a running control plane's data dir; leaf certificates whose
// first SAN is the SPIFFE URI (then the server name); credentials written to a temp dir, keys 0600.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIntermediateCA, createRootCA, issueLeaf, loadCA, type CertificateAuthority } from '../../src/core/pki.js';
import { writePrivateFile, writePublicFile } from '../../src/core/files.js';
import type { X509Certificate } from '@peculiar/x509';

export const TRUST_DOMAIN = 'cluster.local';
const HOUR = 3_600_000;

/** What a leaf names: the SPIFFE identity comes first among its SANs, the server name first among DNS names. */
export interface LeafSpec {
  identity?: string;
  serverName?: string;
  dns?: string[];
  ips?: string[];
  /** Defaults to the server name, else "test-leaf". */
  commonName?: string;
  /** Defaults to server and client. */
  usages?: ('server' | 'client')[];
  lifetimeMs?: number;
  now?: number;
  /** Sign with another CA than the PKI's issuer (a foreign or rotated one). */
  issuer?: CertificateAuthority;
}

export interface TestLeaf {
  identity?: string;
  serverName?: string;
  cert: X509Certificate;
  certPem: string;
  keyPem: string;
  /** The leaf, then its issuer: what a TLS peer presents (a ServiceCertificate's chainPem, the proxy's cert file). */
  chainPem: string;
  /** The issuer's certificate alone: what a peer needs between this leaf and the trust anchors. */
  issuerPem: string;
  trustAnchorsPem: string;
  notAfter: number;
}

export interface LeafFiles {
  certFile: string;
  keyFile: string;
  trustFile: string;
}

export interface TestPki {
  /** The trust anchor, when the PKI made it (a control plane's data dir holds no root key). */
  root?: CertificateAuthority;
  issuer: CertificateAuthority;
  trustAnchorsPem: string;
  leaf(spec: LeafSpec): Promise<TestLeaf>;
  /** Writes the leaf's chain and its key (0600) as NAME.crt / NAME.key, and the anchors as ca.crt. */
  writeLeaf(name: string, leaf: TestLeaf, dir?: string): LeafFiles;
  /** A temporary directory of this PKI (made on first use), removed by cleanup(). */
  dir(): string;
  cleanup(): void;
}

/** The Linkerd-style SPIFFE identity of a ServiceAccount. */
export const spiffeIdOf = (ns: string, sa: string, trustDomain = TRUST_DOMAIN) => `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;

/** A fresh root and issuer (ECDSA P-256), each named after `name`. */
export async function createTestPki(opts: { name?: string; lifetimeMs?: number; issuerLifetimeMs?: number; now?: number } = {}): Promise<TestPki & { root: CertificateAuthority }> {
  const name = opts.name ?? 'outpost.test';
  const lifetimeMs = opts.lifetimeMs ?? 24 * HOUR;
  const root = await createRootCA({ commonName: `root.${name}`, lifetimeMs, now: opts.now });
  const issuer = await createIntermediateCA(root, { commonName: `issuer.${name}`, lifetimeMs: opts.issuerLifetimeMs ?? lifetimeMs, now: opts.now });
  return { ...pkiOf(issuer, root.certPem), root };
}

/** The PKI of a control plane's data dir (DATA_DIR/pki): leaves as its identity service would sign them. */
export async function controlPlanePki(dataDir: string): Promise<TestPki> {
  const pki = join(dataDir, 'pki');
  const issuer = await loadCA(readFileSync(join(pki, 'issuer.crt'), 'utf8'), readFileSync(join(pki, 'issuer.key'), 'utf8'));
  return pkiOf(issuer, readFileSync(join(pki, 'trust-anchors.crt'), 'utf8'));
}

function pkiOf(issuer: CertificateAuthority, trustAnchorsPem: string): TestPki {
  let dir: string | undefined;
  const ownDir = () => (dir ??= mkdtempSync(join(tmpdir(), 'outpost-test-pki-')));
  return {
    issuer,
    trustAnchorsPem,
    async leaf(spec) {
      const signer = spec.issuer ?? issuer;
      const dns = [...(spec.serverName ? [spec.serverName] : []), ...(spec.dns ?? [])];
      const issued = await issueLeaf(signer, {
        commonName: spec.commonName ?? spec.serverName ?? 'test-leaf',
        sans: { uris: spec.identity ? [spec.identity] : [], dns, ips: spec.ips ?? [] },
        lifetimeMs: spec.lifetimeMs ?? HOUR,
        now: spec.now,
        usages: spec.usages,
      });
      return {
        identity: spec.identity,
        serverName: spec.serverName,
        cert: issued.cert,
        certPem: issued.certPem,
        keyPem: issued.keyPem!,
        chainPem: `${issued.certPem.trimEnd()}\n${signer.certPem}`,
        issuerPem: signer.certPem,
        trustAnchorsPem,
        notAfter: issued.cert.notAfter.getTime(),
      };
    },
    writeLeaf(name, leaf, into) {
      const at = into ?? ownDir();
      const files = { certFile: join(at, `${name}.crt`), keyFile: join(at, `${name}.key`), trustFile: join(at, 'ca.crt') };
      writePrivateFile(files.keyFile, leaf.keyPem);
      writePublicFile(files.certFile, leaf.chainPem);
      writePublicFile(files.trustFile, trustAnchorsPem);
      return files;
    },
    dir: ownDir,
    cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}
