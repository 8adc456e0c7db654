// The proxy's control-plane side in one call: destination (Discovery), policy (PolicySource) and the
// health stream fed by the workload's probes, each on its own mTLS channel. For the proxy's wiring.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { WorkloadPort, WorkloadProbe } from '../../core/workloads/effective.js';
import { ProbeSupervisor } from '../probes/supervisor.js';
import type { HealthState } from '../probes/runner.js';
import type { IdentitySource } from '../types.js';
import { createDestinationClient, type DestinationClient } from './destination.js';
import { createHealthReporter, type HealthReporter } from './health-reporter.js';
import { createPolicyClient, type PolicyClient } from './policy.js';
import { createRevocationsClient, type RevocationsClient } from './revocations.js';
import { WorkloadPorts } from './workload-ports.js';

export { ControlChannel, controlPlaneServerName } from './channel.js';
export { DestinationClient, createDestinationClient } from './destination.js';
export { PolicyClient, createPolicyClient } from './policy.js';
export { HealthReporter, createHealthReporter } from './health-reporter.js';
export { RevocationsClient, createRevocationsClient } from './revocations.js';

export type Endpoint = string | { host: string; port: number };

/** "host:port", with brackets around an IPv6 host. */
export function formatTarget(e: Endpoint): string {
  if (typeof e === 'string') return e;
  return e.host.includes(':') && !e.host.startsWith('[') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** What the health stream reports about the proxy, and how it runs the workload's probes. */
interface HealthReportFields {
  inboundPort?: number;
  adminAddress?: string;
  tapAddress?: string;
  /** Probes from local configuration: run from the start (the control plane's, when it sends any, replace them). */
  probes?: WorkloadProbe[];
  ports?: WorkloadPort[];
  /** The ack said the workload is revoked. */
  onRevoked?: () => void;
  /** The replaced proxy's health verdict, reported until this proxy's probes have run (handover.ts). */
  inheritedHealth?: HealthState;
  clock?: Clock;
  log?: Logger;
}

export interface ControlPlaneClientsOptions extends HealthReportFields {
  identity: IdentitySource;
  workload: { namespace: string; name: string };
  /** Omit one to leave that client out (e.g. static upstreams, local policy). */
  destination?: Endpoint;
  policy?: Endpoint;
  health?: Endpoint;
  /** Override the expected server names (default <service>.outpost.svc.cluster.local). */
  serverNames?: { destination?: string; policy?: string; health?: string };
}

export interface ControlPlaneClients {
  discovery?: DestinationClient;
  policy?: PolicyClient;
  /** The revocation deny list (from the policy service): the TLS layers ask it `isRevokedPeer(cert)`. */
  revocations?: RevocationsClient;
  probes: ProbeSupervisor;
  reporter?: HealthReporter;
  /** The ExternalWorkload's declared ports from the health acks (undefined without a health service). */
  workloadPorts?: WorkloadPorts;
  close(): void;
}

export function startControlPlaneClients(opts: ControlPlaneClientsOptions): ControlPlaneClients {
  const workload = `${opts.workload.namespace}/${opts.workload.name}`;
  const log = opts.log;
  const discovery = opts.destination
    ? createDestinationClient({ target: formatTarget(opts.destination), identity: opts.identity, serverName: opts.serverNames?.destination, contextToken: workload, clock: opts.clock, log: log?.child('destination') })
    : undefined;
  const policy = opts.policy
    ? createPolicyClient({ target: formatTarget(opts.policy), identity: opts.identity, serverName: opts.serverNames?.policy, workload, clock: opts.clock, log: log?.child('policy') })
    : undefined;
  const revocations = opts.policy
    ? createRevocationsClient({ target: formatTarget(opts.policy), identity: opts.identity, serverName: opts.serverNames?.policy, workload, clock: opts.clock, log: log?.child('revocations') })
    : undefined;
  const health = opts.health
    ? startWorkloadHealth({ ...opts, target: opts.health, workload, serverName: opts.serverNames?.health })
    : undefined;
  // Without a health service there is nobody to wait for: run the local probes (or none) at once.
  const probes = health?.probes ?? new ProbeSupervisor({ probes: opts.probes ?? [], ports: opts.ports, clock: opts.clock, log: log?.child('probes') });
  if (!health) probes.start();
  const reporter = health?.reporter;
  return {
    discovery,
    policy,
    revocations,
    probes,
    reporter,
    workloadPorts: health?.workloadPorts,
    close: () => {
      health?.stop();
      probes.stop();
      revocations?.close();
      policy?.close();
      discovery?.close();
    },
  };
}

export interface WorkloadHealthOptions extends HealthReportFields {
  target: Endpoint;
  identity: IdentitySource;
  /** "namespace/name". */
  workload: string;
  serverName?: string;
}

/**
 * The probes and the health stream together: the supervisor runs the probes the control plane sends
 * in its acks (the ExternalWorkload's effective probes) and the reporter reports their verdict.
 */
export function startWorkloadHealth(opts: WorkloadHealthOptions): { probes: ProbeSupervisor; reporter: HealthReporter; workloadPorts: WorkloadPorts; stop(): void } {
  const probes = new ProbeSupervisor({ probes: opts.probes, fallbackProbes: opts.probes, ports: opts.ports, clock: opts.clock, log: opts.log?.child('probes'), inherited: opts.inheritedHealth });
  const workloadPorts = new WorkloadPorts();
  const reporter = createHealthReporter({
    target: formatTarget(opts.target),
    identity: opts.identity,
    serverName: opts.serverName,
    workload: opts.workload,
    health: probes,
    inboundPort: opts.inboundPort,
    adminAddress: opts.adminAddress,
    tapAddress: opts.tapAddress,
    onRevoked: opts.onRevoked,
    onProbes: (p) => probes.applyControlPlaneProbes(p),
    onPorts: (p) => workloadPorts.set(p),
    clock: opts.clock,
    log: opts.log?.child('health'),
  });
  probes.start();
  reporter.start();
  return {
    probes,
    reporter,
    workloadPorts,
    stop: () => {
      reporter.stop();
      probes.stop();
    },
  };
}
