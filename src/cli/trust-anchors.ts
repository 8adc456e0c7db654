// The trust anchors a CLI command embeds or verifies with: --trust-anchors FILE, else those of the
// control plane running from DATA_DIR (control-plane.json), else DATA_DIR/pki/trust-anchors.crt.
// A file that cannot be read or holds no PEM certificate is an error naming --trust-anchors.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readControlPlaneInfo } from '../core/control-plane-file.js';
import { OutpostError } from '../core/errors.js';
import { pkiPaths } from '../identity/ca-material.js';

const HINT = 'export them with `outpost identity trust-roots > ca.crt` and pass --trust-anchors ca.crt';

/** The PEM bundle in `file`, checked to hold a certificate. */
export function readTrustAnchorsFile(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch {
    throw new OutpostError('INVALID_ARGUMENT', `--trust-anchors: cannot read ${file}; ${HINT}`, { field: 'trust-anchors' });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new OutpostError('INVALID_ARGUMENT', `--trust-anchors: ${file} holds no PEM certificate`, { field: 'trust-anchors' });
  return pem;
}

/** The trust anchors of --trust-anchors, else of the local control plane. */
export function localTrustAnchors(flags: { 'trust-anchors'?: string; 'data-dir': string }): string {
  const dataDir = resolve(flags['data-dir']);
  return readTrustAnchorsFile(flags['trust-anchors'] ?? readControlPlaneInfo(dataDir)?.trustAnchorsFile ?? pkiPaths(dataDir).trustAnchors);
}
