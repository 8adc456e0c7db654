// Static discovery: upstreams named in config with their endpoints and identities; other authorities
// go to a fallback (the destination client when configured) or resolve to "does not exist".
import type { Discovery, EndpointWatch, ProfileWatch } from '../types.js';
import type { EndpointSnapshot, ResolvedEndpoint } from '../../api/model.js';
import type { UpstreamConfig } from '../config.js';

export function fixedWatch(s: EndpointSnapshot): EndpointWatch {
  return { current: () => s, subscribe: () => () => {}, close: () => {} };
}

export function staticSnapshot(u: UpstreamConfig): EndpointSnapshot {
  const endpoints: ResolvedEndpoint[] = (u.endpoints ?? []).map((e) => ({
    address: e.address,
    port: e.port,
    inboundPort: e.inboundPort,
    identity: e.identity,
    serverName: e.serverName,
    protocolHint: e.identity ? 'h2' : 'unknown',
    weight: e.weight,
    labels: { dst_service: u.authority },
  }));
  return { exists: true, endpoints, labels: { dst_service: u.authority }, opaque: u.protocol === 'opaque' };
}

export class StaticDiscovery implements Discovery {
  private readonly byAuthority = new Map<string, EndpointSnapshot>();

  constructor(upstreams: UpstreamConfig[], private readonly fallback?: Discovery) {
    for (const u of upstreams) if (u.endpoints) this.byAuthority.set(u.authority, staticSnapshot(u));
  }

  resolve(authority: string): EndpointWatch {
    const s = this.byAuthority.get(authority) ?? this.byAuthority.get(authority.replace(/:\d+$/, ''));
    if (s) return fixedWatch(s);
    if (this.fallback) return this.fallback.resolve(authority);
    return fixedWatch({ exists: false, endpoints: [], labels: {} });
  }

  /** Original destinations and names: what the control plane says; without one, nothing is meshed. */
  profile(target: string): ProfileWatch {
    if (this.fallback?.profile) return this.fallback.profile(target);
    const nothing = { opaque: false };
    return { current: () => nothing, subscribe: () => () => {}, close: () => {} };
  }

  close(): void {
    this.fallback?.close();
  }
}
