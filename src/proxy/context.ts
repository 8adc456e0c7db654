// What every layer of the proxy shares: configuration, seams, credentials, metrics, tap and logging.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { ProxyConfig } from './config.js';
import type { ProxyMetrics } from './metrics/proxy-metrics.js';
import type { TapHub } from './tap/hub.js';
import type { TlsState } from './tls/state.js';
import type { Discovery, IdentitySource, PolicySource } from './types.js';
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
  /** Revoked workloads (by serverName) to refuse, when joined to a control plane. */
  revocations?: Revocations;
  /** Set when draining: keep-alive connections are closed after their current request. */
  draining: boolean;
  /** Run when draining starts (close idle keep-alive connections, send GOAWAY). */
  drainHooks: (() => void)[];
}
