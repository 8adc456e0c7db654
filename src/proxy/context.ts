// What every layer of the proxy shares: configuration, seams, credentials, metrics, tap and logging.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { ProxyConfig } from './config.js';
import type { ProxyMetrics } from './metrics/proxy-metrics.js';
import type { TapHub } from './tap/hub.js';
import type { TlsState } from './tls/state.js';
import type { Discovery, IdentitySource, PolicySource, WorkloadPortsSource } from './types.js';
import type { Revocations } from './seams.js';

export interface ProxyContext {
  config: ProxyConfig;
  log: Logger;
  clock: Clock;
  metrics: ProxyMetrics;
  tap: TapHub;
  tls: TlsState;
  identity: IdentitySource;
  discovery: Discovery;
  policy: PolicySource;
  /** The ExternalWorkload's declared ports, when joined to a control plane (the health stream's acks). */
  workloadPorts?: WorkloadPortsSource;
  /** The proxy's own listening ports by role ("admin", "tap", ...): never a target of the inbound. */
  ownPorts: Map<number, string>;
  /** Local ports of the connections the proxy itself opens to 127.0.0.1 (the admin never trusts them). */
  ownLocalClients: Set<number>;
  /** Revoked workloads (by serverName) to refuse, when joined to a control plane. */
  revocations?: Revocations;
  /** Set when draining: keep-alive connections are closed after their current request. */
  draining: boolean;
  /** Run when draining starts (close idle keep-alive connections, send GOAWAY). */
  drainHooks: (() => void)[];
}
