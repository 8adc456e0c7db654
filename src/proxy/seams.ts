// Chooses the implementations of the proxy's seams (types.ts) from configuration: identity from
// files or from the control plane, discovery and policy static or from the control plane's gRPC
// APIs, plus the health reporter. The data path only ever sees the interfaces.
import type { Logger } from '../core/log.js';
import { OutpostError } from '../core/errors.js';
import type { ProxyConfig } from './config.js';
import type { Discovery, IdentitySource, PolicySource } from './types.js';
import { FileIdentitySource } from './static/identity-files.js';
import { StaticDiscovery } from './static/discovery.js';
import { StaticPolicySource } from './static/policy.js';

export interface ProxySeams {
  identity: IdentitySource;
  discovery: Discovery;
  policy: PolicySource;
  close(): void;
}

/**
 * Hook for the control-plane identity client (src/proxy/identity/, issue 2): a module
 * `./identity/source.js` exporting `createControlPlaneIdentity(config, log): IdentitySource | Promise<IdentitySource>`
 * (token bootstrap, persisted key+cert in config.identity.dir, renewal). Until it exists, the
 * control-plane mode reports NOT_IMPLEMENTED and files mode works.
 */
export const CONTROL_PLANE_IDENTITY_MODULE = './identity/source.js';

type IdentityModule = { createControlPlaneIdentity(config: ProxyConfig, log: Logger): IdentitySource | Promise<IdentitySource> };

async function controlPlaneIdentity(config: ProxyConfig, log: Logger): Promise<IdentitySource> {
  let mod: IdentityModule;
  try {
    mod = (await import(CONTROL_PLANE_IDENTITY_MODULE)) as IdentityModule;
  } catch {
    throw new OutpostError('NOT_IMPLEMENTED', 'identity from the control plane (identity.tokenPath) is not built into this proxy yet; use identity.certFile and identity.keyFile', { field: 'identity.tokenPath' });
  }
  return mod.createControlPlaneIdentity(config, log);
}

function target(hp: { host: string; port: number }): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

export async function createSeams(config: ProxyConfig, log: Logger): Promise<ProxySeams> {
  const closers: (() => void)[] = [];
  const identity =
    config.identity.mode === 'files'
      ? new FileIdentitySource({ certFile: config.identity.certFile!, keyFile: config.identity.keyFile!, trustAnchorsFile: config.identity.trustAnchors!, reloadIntervalMs: config.identity.reloadIntervalMs, log: log.child('identity') })
      : await controlPlaneIdentity(config, log.child('identity'));
  closers.push(() => identity.close());

  const workload = config.workload.name && config.workload.namespace ? `${config.workload.namespace}/${config.workload.name}` : undefined;
  let remoteDiscovery: Discovery | undefined;
  if (config.destination.endpoint) {
    const { createDestinationClient } = await import('./control/destination.js');
    remoteDiscovery = createDestinationClient({ target: target(config.destination.endpoint), identity, contextToken: workload, log: log.child('destination') });
  }
  const discovery = new StaticDiscovery(config.upstreams, remoteDiscovery);
  closers.push(() => discovery.close());

  let policy: PolicySource;
  if (config.identity.mode === 'controlPlane' && workload && config.policy.endpoint) {
    const { createPolicyClient } = await import('./control/policy.js');
    policy = createPolicyClient({ target: target(config.policy.endpoint), identity, workload, log: log.child('policy') });
  } else policy = new StaticPolicySource(config.policy.default, config.policy.ports);
  closers.push(() => policy.close());

  if (config.identity.mode === 'controlPlane' && workload && config.health.endpoint) {
    const { createHealthReporter } = await import('./control/health-reporter.js');
    const { ProbeRunner } = await import('./probes/runner.js');
    // Probe specs come from the workload's spec; until they are delivered to the proxy the runner
    // has none, so the reporter sends heartbeats with ready = true.
    const runner = new ProbeRunner({ probes: [], log: log.child('probes') });
    const reporter = createHealthReporter({ target: target(config.health.endpoint), identity, workload, health: runner, inboundPort: config.inbound.port, adminAddress: `${config.admin.host}:${config.admin.port}`, log: log.child('health') });
    runner.start();
    reporter.start();
    closers.push(() => {
      reporter.stop();
      runner.stop();
    });
  }

  return {
    identity,
    discovery,
    policy,
    close: () => {
      for (const c of closers.reverse()) {
        try {
          c();
        } catch {}
      }
    },
  };
}
