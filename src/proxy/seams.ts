// Chooses the implementations of the proxy's seams (types.ts) from configuration: identity from
// files or from the control plane, discovery and policy static or from the control plane's gRPC
// APIs, plus the health reporter. The data path only ever sees the interfaces.
import type { Logger } from '../core/log.js';
import type { ProxyConfig } from './config.js';
import type { Discovery, IdentitySource, PolicySource, WorkloadPortsSource } from './types.js';
import type { HealthState } from './probes/runner.js';
import { FileIdentitySource } from './static/identity-files.js';
import { StaticDiscovery } from './static/discovery.js';
import { StaticPolicySource } from './static/policy.js';

/** The revocation deny list, when joined to a control plane (src/proxy/control/revocations.ts). */
export interface Revocations {
  isRevokedPeer(cert: { subjectaltname?: string } | undefined): boolean;
  isRevokedServerName(serverName: string | undefined): boolean;
  subscribe(listener: () => void): () => void;
}

export interface ProxySeams {
  identity: IdentitySource;
  discovery: Discovery;
  policy: PolicySource;
  revocations?: Revocations;
  /** The ExternalWorkload's declared ports, when joined to a control plane with a health service. */
  workloadPorts?: WorkloadPortsSource;
  /** The workload's health verdict as reported to the control plane (handed to a successor). */
  health?(): HealthState;
  close(): void;
}

/** Identity from the control plane (token bootstrap, persisted key+cert in identity.dir, renewal): src/proxy/identity/source.ts. */
async function controlPlaneIdentity(config: ProxyConfig, log: Logger): Promise<IdentitySource> {
  const { createControlPlaneIdentity } = await import('./identity/source.js');
  return createControlPlaneIdentity(config, log);
}

export interface SeamHooks {
  /** The control plane revoked this workload: stop serving. */
  onRevoked?: () => void;
  /** The replaced proxy's health verdict (restart without an outage). */
  inheritedHealth?: HealthState;
}

/** As configured: a wildcard host (0.0.0.0) is reported as is and the control plane puts in the address it sees the proxy at. */
function listenerAddress(l: { host: string; port: number }): string {
  return l.host.includes(':') && !l.host.startsWith('[') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

export async function createSeams(config: ProxyConfig, log: Logger, hooks: SeamHooks = {}): Promise<ProxySeams> {
  const closers: (() => void)[] = [];
  const identity =
    config.identity.mode === 'files'
      ? new FileIdentitySource({ certFile: config.identity.certFile!, keyFile: config.identity.keyFile!, trustAnchorsFile: config.identity.trustAnchors!, reloadIntervalMs: config.identity.reloadIntervalMs, log: log.child('identity') })
      : await controlPlaneIdentity(config, log.child('identity'));
  closers.push(() => identity.close());

  // An auto-registered proxy (workload.group + workload.address) learns its name from the identity service.
  const registered = 'workload' in identity && typeof identity.workload === 'function' ? (identity.workload as () => { namespace: string; name: string } | undefined)() : undefined;
  const name = registered?.name ?? config.workload.name;
  const namespace = registered?.namespace ?? config.workload.namespace;
  let remoteDiscovery: Discovery | undefined;
  let remotePolicy: PolicySource | undefined;
  let revocations: Revocations | undefined;
  let workloadPorts: WorkloadPortsSource | undefined;
  let health: (() => HealthState) | undefined;
  if (name && namespace && config.destination.endpoint) {
    // Joined to a control plane (whatever the certificates' source): destination, policy and health
    // (with the workload's probes) from it.
    const { startControlPlaneClients } = await import('./control/index.js');
    const cp = startControlPlaneClients({
      identity,
      workload: { namespace, name },
      destination: config.destination.endpoint,
      policy: config.policy.endpoint,
      health: config.health.endpoint,
      inboundPort: config.inbound.port,
      adminAddress: listenerAddress(config.admin),
      tapAddress: listenerAddress(config.tap),
      onRevoked: hooks.onRevoked,
      inheritedHealth: hooks.inheritedHealth,
      log,
    });
    health = () => cp.probes.current();
    remoteDiscovery = cp.discovery;
    remotePolicy = cp.policy;
    revocations = cp.revocations;
    workloadPorts = cp.workloadPorts;
    closers.push(() => cp.close());
  } else if (config.destination.endpoint) {
    // No workload named: discovery only.
    const { createDestinationClient, formatTarget } = await import('./control/index.js');
    remoteDiscovery = createDestinationClient({ target: formatTarget(config.destination.endpoint), identity, contextToken: name && namespace ? `${namespace}/${name}` : undefined, log: log.child('destination') });
    closers.push(() => remoteDiscovery!.close());
  }
  const discovery = new StaticDiscovery(config.upstreams, remoteDiscovery);
  const policy = remotePolicy ?? new StaticPolicySource(config.policy.default, config.policy.ports);

  return {
    identity,
    discovery,
    policy,
    revocations,
    workloadPorts,
    health,
    close: () => {
      for (const c of closers.reverse()) {
        try {
          c();
        } catch {}
      }
    },
  };
}
