// The identity CA on disk: generated on first start in DATA_DIR/pki (trust anchor + issuer, ECDSA
// P-256, keys 0600) or imported from files (like `linkerd install --identity-*`), and watched so that
// a new issuer (or anchor bundle) written to disk is picked up without a restart.
import { watch, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { OutpostError } from '../core/errors.js';
import { readIfExists, writePrivateFile, writePublicFile } from '../core/files.js';
import { createIntermediateCA, createRootCA, loadCA, splitPemBundle } from '../core/pki.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { CaMaterial } from './authority.js';

const DAY = 86_400_000;
export const ANCHOR_LIFETIME_MS = 10 * 365 * DAY;
export const ISSUER_LIFETIME_MS = 365 * DAY;
/** A generated issuer is replaced when it has less than this left (only if we hold the anchor key). */
const ISSUER_RENEW_BEFORE_MS = 30 * DAY;

export const pkiPaths = (dataDir: string) => ({
  trustAnchors: join(dataDir, 'pki', 'trust-anchors.crt'),
  anchorKey: join(dataDir, 'pki', 'trust-anchor.key'),
  anchorCert: join(dataDir, 'pki', 'trust-anchor.crt'),
  issuerCert: join(dataDir, 'pki', 'issuer.crt'),
  issuerKey: join(dataDir, 'pki', 'issuer.key'),
});

export interface ImportFlags {
  trustAnchorsFile?: string;
  issuerCertFile?: string;
  issuerKeyFile?: string;
}

export interface CaSource {
  /** Files whose change triggers a reload. */
  files: { trustAnchors: string; issuerCert: string; issuerKey: string };
  material: CaMaterial;
  generated: boolean;
}

/** Loads the CA material: imported files (all three flags), else DATA_DIR/pki, generating what is missing. */
export async function prepareCaMaterial(dataDir: string, flags: ImportFlags, now = Date.now()): Promise<CaSource> {
  const p = pkiPaths(dataDir);
  const given = [flags.trustAnchorsFile, flags.issuerCertFile, flags.issuerKeyFile].filter(Boolean).length;
  if (given > 0 && given < 3) {
    throw new OutpostError('CONFIG_INVALID', 'importing an identity CA needs all three of --identity-trust-anchors-file, --identity-issuer-cert and --identity-issuer-key', {
      field: 'identity-trust-anchors-file',
    });
  }
  if (given === 3) {
    const files = { trustAnchors: resolve(flags.trustAnchorsFile!), issuerCert: resolve(flags.issuerCertFile!), issuerKey: resolve(flags.issuerKeyFile!) };
    const material = readMaterial(files);
    if (!material) throw new OutpostError('CONFIG_INVALID', `cannot read the identity CA files ${Object.values(files).join(', ')}`, { field: 'identity-trust-anchors-file' });
    // Keep a copy in the data dir: the trust-anchors file is what control-plane.json points to, and a
    // restart without the flags keeps the imported CA.
    writeCopies(p, material);
    return { files, material, generated: false };
  }
  let material = readMaterial({ trustAnchors: p.trustAnchors, issuerCert: p.issuerCert, issuerKey: p.issuerKey });
  let generated = false;
  if (!material) {
    const root = await createRootCA({ commonName: 'root.outpost.identity', lifetimeMs: ANCHOR_LIFETIME_MS, now });
    const issuer = await createIntermediateCA(root, { commonName: 'issuer.outpost.identity', lifetimeMs: ISSUER_LIFETIME_MS, now });
    writePrivateFile(p.anchorKey, root.keyPem);
    writePublicFile(p.anchorCert, root.certPem);
    material = { trustAnchorsPem: splitPemBundle(root.certPem).join(''), issuerCertPem: issuer.certPem, issuerKeyPem: issuer.keyPem };
    writeCopies(p, material);
    generated = true;
  } else {
    const renewed = await renewGeneratedIssuer(p, material, now);
    if (renewed) material = renewed;
  }
  return { files: { trustAnchors: p.trustAnchors, issuerCert: p.issuerCert, issuerKey: p.issuerKey }, material, generated };
}

/** Replaces an issuer close to expiry when the anchor key is ours (generated). */
async function renewGeneratedIssuer(p: ReturnType<typeof pkiPaths>, material: CaMaterial, now: number): Promise<CaMaterial | undefined> {
  const anchorKey = readIfExists(p.anchorKey);
  const anchorCert = readIfExists(p.anchorCert);
  if (!anchorKey || !anchorCert) return undefined;
  let validTo: number;
  try {
    validTo = Date.parse(new X509Certificate(material.issuerCertPem).validTo);
  } catch {
    return undefined;
  }
  if (validTo - now > ISSUER_RENEW_BEFORE_MS) return undefined;
  const root = await loadCA(anchorCert, anchorKey);
  const issuer = await createIntermediateCA(root, { commonName: 'issuer.outpost.identity', lifetimeMs: ISSUER_LIFETIME_MS, now });
  const renewed = { ...material, issuerCertPem: issuer.certPem, issuerKeyPem: issuer.keyPem };
  writeCopies(p, renewed);
  return renewed;
}

function writeCopies(p: ReturnType<typeof pkiPaths>, m: CaMaterial): void {
  if (readIfExists(p.trustAnchors) !== m.trustAnchorsPem) writePublicFile(p.trustAnchors, m.trustAnchorsPem);
  if (readIfExists(p.issuerKey) !== m.issuerKeyPem) writePrivateFile(p.issuerKey, m.issuerKeyPem);
  if (readIfExists(p.issuerCert) !== m.issuerCertPem) writePublicFile(p.issuerCert, m.issuerCertPem);
}

export function readMaterial(files: CaSource['files']): CaMaterial | undefined {
  const trustAnchorsPem = readIfExists(files.trustAnchors);
  const issuerCertPem = readIfExists(files.issuerCert);
  const issuerKeyPem = readIfExists(files.issuerKey);
  if (!trustAnchorsPem || !issuerCertPem || !issuerKeyPem) return undefined;
  // One PEM block per anchor, each ending in a newline (hand-concatenated bundles often lack it).
  const anchors = splitPemBundle(trustAnchorsPem);
  return { trustAnchorsPem: anchors.length ? anchors.join('') : trustAnchorsPem, issuerCertPem, issuerKeyPem };
}

export interface MaterialWatcher {
  close(): void;
}

/**
 * Calls `onChange` with the new material when any of the files changes (debounced: writers replace
 * the cert and the key one after the other). The callback validates; a bad state is simply retried
 * on the next change.
 */
export function watchMaterial(source: CaSource, onChange: (m: CaMaterial) => void, opts: { log: Logger; clock?: Clock; debounceMs?: number; dataDir?: string }): MaterialWatcher {
  const clock = opts.clock ?? systemClock;
  const names = new Set(Object.values(source.files));
  const dirs = new Set([...names].map((f) => dirname(f)));
  let timer: TimerHandle | undefined;
  let last = JSON.stringify(source.material);
  const fire = () => {
    timer = undefined;
    const m = readMaterial(source.files);
    if (!m || JSON.stringify(m) === last) return;
    last = JSON.stringify(m);
    if (opts.dataDir && source.files.trustAnchors !== pkiPaths(opts.dataDir).trustAnchors) writeCopies(pkiPaths(opts.dataDir), m);
    onChange(m);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = watch(dir, (_event, file) => {
        if (file && !names.has(join(dir, file.toString()))) return;
        if (timer) clock.clearTimeout(timer);
        timer = clock.setTimeout(fire, opts.debounceMs ?? 200);
      });
      w.on('error', (e) => opts.log.warn('cannot watch the identity CA files', { dir, error: e }));
      watchers.push(w);
    } catch (e) {
      opts.log.warn('cannot watch the identity CA files; a new issuer needs a restart', { dir, error: e });
    }
  }
  return {
    close() {
      if (timer) clock.clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
