// `DATA_DIR/control-plane.json`: where every listener of a running control plane is, so that the
// CLI, tests and proxies on the same machine can find it with no flags.
import { join } from 'node:path';
import { readIfExists, writePublicFile } from './files.js';

export interface ControlPlaneInfo {
  version: string;
  pid: number;
  startedAt: string;
  dataDir: string;
  kubeconfig: string;
  /** listener name → URL or host:port, e.g. api → https://127.0.0.1:6443, identity → 127.0.0.1:8080 */
  listeners: Record<string, string>;
  trustAnchorsFile?: string;
  /** What the control plane computes identities and default policies with (for `outpost diagnostics`). */
  trustDomain?: string;
  defaultInboundPolicy?: string;
  /** How pods' certificates are named (`--identity-naming`: spiffe or linkerd). */
  identityNaming?: string;
}

export function controlPlaneFilePath(dataDir: string): string {
  return join(dataDir, 'control-plane.json');
}

export function writeControlPlaneInfo(dataDir: string, info: ControlPlaneInfo): void {
  writePublicFile(controlPlaneFilePath(dataDir), JSON.stringify(info, null, 2) + '\n');
}

export function readControlPlaneInfo(dataDir: string): ControlPlaneInfo | undefined {
  const raw = readIfExists(controlPlaneFilePath(dataDir));
  return raw ? (JSON.parse(raw) as ControlPlaneInfo) : undefined;
}
