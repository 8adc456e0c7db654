// The health reporter: keeps one WorkloadHealth.Report stream open over mTLS, sends the probe verdict
// whenever it changes and at least every heartbeat interval (from the server's acks, default 5 s),
// reconnects with backoff, and calls onRevoked when an ack says the workload was revoked.
import type * as grpc from '@grpc/grpc-js';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { OUTPOST_VERSION } from '../../core/version.js';
import type { WorkloadProbe } from '../../core/workloads/effective.js';
import type { IdentitySource } from '../types.js';
import type { BackoffOptions } from './backoff.js';
import { ControlChannel, controlPlaneServerName } from './channel.js';
import type { HealthAck__Output, HealthReport } from '../../api/gen/health.js';
import { serviceClient } from '../../api/load.js';
import { ResilientStream } from './stream.js';

export const DEFAULT_HEARTBEAT_MS = 5_000;

/** What the reporter reads from the probe runner (ProbeRunner satisfies it). */
export interface HealthSource {
  current(): { ready: boolean; probes: { name: string; lastSuccess?: boolean; message: string; checkedAt: number }[] };
  onChange(listener: () => void): () => void;
}

type ReportCall = grpc.ClientDuplexStream<HealthReport, HealthAck__Output>;

export interface HealthReporterOptions {
  channel: ControlChannel;
  ownsChannel?: boolean;
  /** "namespace/name" of the ExternalWorkload whose certificate the proxy holds. */
  workload: string;
  health: HealthSource;
  inboundPort?: number;
  /** host:port of the proxy's admin server, for metrics scraping. */
  adminAddress?: string;
  /** host:port of the proxy's tap listener, for the viz's live tap. */
  tapAddress?: string;
  /** Called once each time an ack turns `revoked` on: the proxy should stop serving. */
  onRevoked?: () => void;
  /**
   * The workload's effective probes from the acks: called on the first ack (undefined when the server
   * sends none) and whenever they change. ProbeSupervisor.applyControlPlaneProbes fits here.
   */
  onProbes?: (probes: WorkloadProbe[] | undefined) => void;
  /** The workload's declared ports, from every ack (WorkloadPorts.set fits here). */
  onPorts?: (ports: number[]) => void;
  clock?: Clock;
  backoff?: BackoffOptions;
  log?: Logger;
}

export class HealthReporter {
  private readonly clock: Clock;
  private stream: ResilientStream<HealthAck__Output, ReportCall> | undefined;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private heartbeatTimer: TimerHandle | undefined;
  private unsubscribeHealth: (() => void) | undefined;
  private revoked = false;
  private sent = 0;
  private lastProbesJson: string | undefined;

  constructor(private readonly opts: HealthReporterOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  start(): void {
    if (this.stream) return;
    this.unsubscribeHealth = this.opts.health.onChange(() => this.sendNow());
    this.stream = new ResilientStream<HealthAck__Output, ReportCall>({
      channel: this.opts.channel,
      service: serviceClient('outpost.health.v1.WorkloadHealth'),
      description: `health Report ${this.opts.workload}`,
      clock: this.clock,
      backoff: this.opts.backoff,
      log: this.opts.log,
      open: (client) => (client as unknown as { report(): ReportCall }).report(),
      onOpen: (call) => this.send(call),
      onMessage: (ack) => this.onAck(ack),
      onDisconnect: (reason) => {
        this.clearHeartbeat();
        this.opts.log?.info('health stream lost; reconnecting', { reason });
      },
    });
  }

  /** True after an ack said the workload is revoked (until an ack says otherwise). */
  isRevoked(): boolean {
    return this.revoked;
  }

  /** Reports sent since start (for metrics and tests). */
  reportsSent(): number {
    return this.sent;
  }

  /** The interval the server asked for. */
  heartbeatIntervalMs(): number {
    return this.heartbeatMs;
  }

  stop(): void {
    this.unsubscribeHealth?.();
    this.unsubscribeHealth = undefined;
    this.clearHeartbeat();
    const call = this.stream?.current();
    // Half-close first so the server sees an orderly goodbye rather than a reset.
    try {
      call?.end();
    } catch {
      // already finished
    }
    this.stream?.close();
    this.stream = undefined;
    if (this.opts.ownsChannel) this.opts.channel.close();
  }

  private onAck(ack: HealthAck__Output): void {
    const interval = ack.heartbeatIntervalMs && ack.heartbeatIntervalMs > 0 ? ack.heartbeatIntervalMs : DEFAULT_HEARTBEAT_MS;
    if (interval !== this.heartbeatMs) {
      this.heartbeatMs = interval;
      this.armHeartbeat(); // apply a shorter interval at once
    }
    this.deliverProbes(ack.probesJson ?? '');
    this.opts.onPorts?.((ack.ports ?? []).map(Number));
    const revoked = ack.revoked === true;
    if (revoked && !this.revoked) {
      this.opts.log?.warn('the control plane revoked this workload; stop serving', { workload: this.opts.workload });
      this.revoked = true;
      this.opts.onRevoked?.();
    } else if (!revoked) this.revoked = false;
  }

  private deliverProbes(json: string): void {
    if (!this.opts.onProbes || json === this.lastProbesJson || (json === '' && this.lastProbesJson !== undefined)) return;
    this.lastProbesJson = json;
    if (json === '') return this.opts.onProbes(undefined);
    let probes: unknown;
    try {
      probes = JSON.parse(json);
    } catch {
      probes = undefined;
    }
    if (!Array.isArray(probes)) {
      this.opts.log?.warn('the control plane sent malformed probes; keeping the current ones', { field: 'probes_json' });
      return;
    }
    this.opts.onProbes(probes as WorkloadProbe[]);
  }

  private sendNow(): void {
    const call = this.stream?.current();
    if (call) this.send(call);
  }

  private send(call: ReportCall): void {
    try {
      call.write(this.report());
      this.sent++;
    } catch (e) {
      this.opts.log?.debug('health report not sent', { error: (e as Error).message });
    }
    this.armHeartbeat();
  }

  private armHeartbeat(): void {
    this.clearHeartbeat();
    this.heartbeatTimer = this.clock.setTimeout(() => {
      this.heartbeatTimer = undefined;
      this.sendNow();
    }, this.heartbeatMs);
    this.heartbeatTimer.unref?.();
  }

  private clearHeartbeat(): void {
    if (this.heartbeatTimer) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private report(): HealthReport {
    const state = this.opts.health.current();
    const adminAddress = this.opts.adminAddress ?? '';
    const adminPort = Number(/:(\d+)$/.exec(adminAddress)?.[1] ?? 0);
    return {
      workload: this.opts.workload,
      ready: state.ready,
      probes: state.probes.map((p) => ({ name: p.name, success: p.lastSuccess === true, message: p.message, checkedAtUnixMs: p.checkedAt })),
      proxyVersion: OUTPOST_VERSION,
      inboundPort: this.opts.inboundPort ?? 4143,
      adminPort,
      adminAddress,
      tapAddress: this.opts.tapAddress ?? '',
    };
  }
}

/** A reporter with its own mTLS channel to `target` (host:port, default port 8087). */
export function createHealthReporter(opts: Omit<HealthReporterOptions, 'channel' | 'ownsChannel'> & { target: string; identity: IdentitySource; serverName?: string }): HealthReporter {
  const channel = new ControlChannel({ target: opts.target, identity: opts.identity, serverName: opts.serverName ?? controlPlaneServerName('health') });
  return new HealthReporter({ ...opts, channel, ownsChannel: true });
}
