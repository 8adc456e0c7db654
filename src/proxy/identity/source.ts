// The proxy's hook for identity from the control plane (src/proxy/seams.ts loads this module):
// builds a WorkloadIdentityClient from the proxy configuration and waits for usable credentials.
// With workload.group and workload.address instead of workload.name, the proxy auto-registers
// (docs/adr/0010) and `client.workload()` tells the name it got.
import { readFileSync } from 'node:fs';
import { OutpostError } from '../../core/errors.js';
import { readIfExists } from '../../core/files.js';
import type { Logger } from '../../core/log.js';
import type { ProxyConfig } from '../config.js';
import { isIP } from 'node:net';
import { WorkloadIdentityClient, type GroupMembership } from './client.js';

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
  const client = new WorkloadIdentityClient({
    identityAddr: endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`,
    trustAnchorsPem,
    workload,
    stateDir: config.identity.dir,
    // Read only when needed: the bootstrap token is used once and may be deleted afterwards.
    token: () => (tokenPath ? readIfExists(tokenPath) : undefined),
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
