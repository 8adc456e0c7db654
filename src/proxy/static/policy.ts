// Static inbound policy from config: a default for every port (all authenticated clients, or deny)
// and per-port overrides (protocol, allowed identities). Used when no policy controller is configured.
import type { PolicySource } from '../types.js';
import type { Authorization, InboundPortPolicy } from '../../api/model.js';
import type { PortPolicyConfig } from '../config.js';

export function staticPortPolicy(port: number, def: 'all-authenticated' | 'deny', ports: PortPolicyConfig[]): InboundPortPolicy {
  const override = ports.find((p) => p.port === port);
  if (override) {
    const authz: Authorization = { networks: [], authentication: { kind: 'meshTLS', identities: override.identities }, labels: { kind: 'default', name: `static:${port}` } };
    return { protocol: override.protocol, authorizations: override.identities.length ? [authz] : [], httpRoutes: [], labels: { kind: 'default', name: `static:${port}` } };
  }
  const labels = { kind: 'default', name: def };
  if (def === 'deny') return { protocol: 'detect', authorizations: [], httpRoutes: [], labels };
  return { protocol: 'detect', authorizations: [{ networks: [], authentication: { kind: 'meshTLS', identities: ['*'] }, labels }], httpRoutes: [], labels };
}

export class StaticPolicySource implements PolicySource {
  constructor(
    private readonly def: 'all-authenticated' | 'deny',
    private readonly ports: PortPolicyConfig[],
  ) {}

  watchPort(port: number) {
    const p = staticPortPolicy(port, this.def, this.ports);
    return { current: () => p, subscribe: () => () => {}, close: () => {} };
  }

  close(): void {}
}
