// The proxy's hook for identity from the control plane (src/proxy/seams.ts loads this module):
// builds a WorkloadIdentityClient from the proxy configuration and waits for usable credentials.
import { readFileSync } from 'node:fs';
import { OutpostError } from '../../core/errors.js';
import { readIfExists } from '../../core/files.js';
import type { Logger } from '../../core/log.js';
import type { ProxyConfig } from '../config.js';
import type { IdentitySource } from '../types.js';
import { WorkloadIdentityClient } from './client.js';

export async function createControlPlaneIdentity(config: ProxyConfig, log: Logger): Promise<IdentitySource> {
  const { name, namespace } = config.workload;
  if (!name || !namespace) {
    throw new OutpostError('CONFIG_INVALID', 'workload.name and workload.namespace: required to obtain an identity from the control plane', { field: 'workload.name' });
  }
  const endpoint = config.identity.endpoint;
  if (!endpoint) throw new OutpostError('CONFIG_INVALID', 'identity.endpoint: required when identity comes from the control plane', { field: 'identity.endpoint' });
  let trustAnchorsPem: string;
  try {
    trustAnchorsPem = readFileSync(config.identity.trustAnchors!, 'utf8');
  } catch {
    throw new OutpostError('CONFIG_INVALID', `identity.trustAnchors: cannot read ${config.identity.trustAnchors}`, { field: 'identity.trustAnchors' });
  }
  const tokenPath = config.identity.tokenPath;
  const client = new WorkloadIdentityClient({
    identityAddr: endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`,
    trustAnchorsPem,
    workload: { namespace, name },
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
