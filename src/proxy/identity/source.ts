// The proxy's hook for identity from the control plane (src/proxy/seams.ts loads this module):
// builds a WorkloadIdentityClient from the proxy configuration and waits for usable credentials.
// With workload.group and workload.address instead of workload.name, the proxy auto-registers
// (docs/adr/0010) and `client.workload()` tells the name it got.
import { readFileSync, unlinkSync } from 'node:fs';
import { OutpostError } from '../../core/errors.js';
import { readIfExists } from '../../core/files.js';
import type { Logger } from '../../core/log.js';
import type { ProxyConfig } from '../config.js';
import { isIP } from 'node:net';
import { WorkloadIdentityClient, type GroupMembership } from './client.js';
import { lockStateDir, recordUsedToken, tokenAlreadyUsed } from './state.js';
import { predecessorPid } from '../handover.js';

/** workload.group / workload.address: read this way until ProxyConfig declares them (additive). */
type WorkloadSettings = ProxyConfig['workload'] & { group?: string; address?: string };

export async function createControlPlaneIdentity(config: ProxyConfig, log: Logger): Promise<WorkloadIdentityClient> {
  const { name, namespace, group, address } = config.workload as WorkloadSettings;
  if (!namespace || !(name || group)) {
    throw new OutpostError('CONFIG_INVALID', 'workload.namespace and workload.name (or workload.group with workload.address): required to obtain an identity from the control plane', { field: 'workload.name' });
  }
  if (!name && (!address || isIP(address) === 0)) {
    throw new OutpostError('CONFIG_INVALID', `workload.address: required with workload.group, the IPv4 or IPv6 address this VM registers with${address ? ` (got "${address}")` : ''}`, { field: 'workload.address' });
  }
  const workload: { namespace: string; name: string } | GroupMembership = name ? { namespace, name } : { namespace, group: group!, address: address! };
  const endpoint = config.identity.endpoint;
  if (!endpoint) throw new OutpostError('CONFIG_INVALID', 'identity.endpoint: required when identity comes from the control plane', { field: 'identity.endpoint' });
  let trustAnchorsPem: string;
  try {
    trustAnchorsPem = config.identity.trustAnchorsPem ?? readFileSync(config.identity.trustAnchors!, 'utf8');
  } catch {
    throw new OutpostError('CONFIG_INVALID', `identity.trustAnchors: cannot read ${config.identity.trustAnchors}`, { field: 'identity.trustAnchors' });
  }
  const tokenPath = config.identity.tokenPath;
  const dir = config.identity.dir;
  // One proxy per state dir: a second one on the same dir fails here, before touching anything.
  const releaseLock = lockStateDir(dir, predecessorPid());
  // A pod's token is a projected ServiceAccount token the kubelet rotates: never deleted, never remembered.
  const rotatedToken = config.workload.kind === 'Pod';
  let saidUsed = false;
  const readToken = (): string | undefined => {
    const token = tokenPath ? readIfExists(tokenPath) : undefined;
    if (!token?.trim() || rotatedToken || !tokenAlreadyUsed(dir, token)) return token;
    if (!saidUsed) log.info('the bootstrap token already enrolled this workload; not using it again', { file: tokenPath });
    saidUsed = true;
    return undefined;
  };
  const tokenUsed = (token: string) => {
    if (!tokenPath || rotatedToken) return;
    recordUsedToken(dir, token);
    try {
      unlinkSync(tokenPath);
      log.info('deleted the bootstrap token file: enrolled, restarts use the persisted certificate', { file: tokenPath });
    } catch (e) {
      // Under systemd's ProtectSystem=strict the install dir is read-only: the hash recorded above keeps it unused.
      log.info('the bootstrap token is used up: enrolled, restarts use the persisted certificate; its file could not be deleted, so it is remembered as used and never sent again (delete it)', { file: tokenPath, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
    }
  };
  const client = new WorkloadIdentityClient({
    identityAddr: identityAddress(endpoint),
    trustAnchorsPem,
    workload,
    stateDir: dir,
    // Read only when needed: the bootstrap token is used once, then deleted (or remembered as used).
    token: readToken,
    onTokenUsed: tokenUsed,
    onClose: releaseLock,
    log,
  });
  try {
    await client.start();
  } catch (e) {
    client.close();
    throw e;
  }
  return client;
}

/** host:port of the identity service as gRPC dials it (IPv6 bracketed). */
export function identityAddress(endpoint: { host: string; port: number }): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
