// Runs a workload's probes on their schedules (initial delay, then every period, never overlapping),
// applies the thresholds, and tells listeners when the workload's health changes. Clock injected.
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { runCheck, type CheckOutcome } from './checks.js';
import { GrpcHealthChecker } from './grpc-health.js';
import type { ProbeSpec } from './spec.js';
import { applyCheckResult, INITIAL_THRESHOLD_STATE, type ThresholdState } from './thresholds.js';

export interface ProbeStatus {
  name: string;
  /** The probe's verdict after thresholds. */
  ready: boolean;
  /** The last check's result; undefined before the first. */
  lastSuccess?: boolean;
  message: string;
  /** Clock time of the last check (ms since the epoch), 0 before the first. */
  checkedAt: number;
}

export interface HealthState {
  /** True when every probe is ready (and when there are no probes, like a pod without a readiness probe). */
  ready: boolean;
  probes: ProbeStatus[];
}

interface RunningProbe {
  spec: ProbeSpec;
  threshold: ThresholdState;
  status: ProbeStatus;
  timer?: TimerHandle;
  grpc?: GrpcHealthChecker;
}

export interface ProbeRunnerOptions {
  probes: ProbeSpec[];
  clock?: Clock;
  log?: Logger;
}

export class ProbeRunner {
  private readonly clock: Clock;
  private readonly probes: RunningProbe[];
  private readonly changeListeners = new Set<(s: HealthState) => void>();
  private readonly checkListeners = new Set<(name: string, outcome: CheckOutcome) => void>();
  private running = false;

  constructor(private readonly opts: ProbeRunnerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.probes = opts.probes.map((spec) => ({
      spec,
      threshold: INITIAL_THRESHOLD_STATE,
      status: { name: spec.name, ready: false, message: 'not checked yet', checkedAt: 0 },
    }));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const p of this.probes) {
      if (p.spec.action.kind === 'grpc') p.grpc = new GrpcHealthChecker(p.spec.action.port);
      this.schedule(p, p.spec.initialDelayMs);
    }
  }

  stop(): void {
    this.running = false;
    for (const p of this.probes) {
      if (p.timer) this.clock.clearTimeout(p.timer);
      p.timer = undefined;
      p.grpc?.close();
      p.grpc = undefined;
    }
  }

  current(): HealthState {
    const probes = this.probes.map((p) => ({ ...p.status }));
    return { ready: probes.every((p) => p.ready), probes };
  }

  /** Called when the verdict or any probe's result flips. Returns an unsubscribe. */
  onChange(listener: (s: HealthState) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Called after every completed check (for logs, metrics and tests). */
  onCheck(listener: (name: string, outcome: CheckOutcome) => void): () => void {
    this.checkListeners.add(listener);
    return () => this.checkListeners.delete(listener);
  }

  private schedule(p: RunningProbe, delayMs: number): void {
    if (!this.running) return;
    p.timer = this.clock.setTimeout(() => {
      p.timer = undefined;
      void this.check(p);
    }, delayMs);
    p.timer.unref?.();
  }

  private async check(p: RunningProbe): Promise<void> {
    const started = this.clock.now();
    const outcome = await runCheck(p.spec.action, p.spec.timeoutMs, { clock: this.clock, grpc: p.grpc });
    if (!this.running) return;
    const before = this.current();
    p.threshold = applyCheckResult(p.threshold, outcome.success, p.spec);
    p.status = { name: p.spec.name, ready: p.threshold.ready, lastSuccess: outcome.success, message: outcome.message, checkedAt: this.clock.now() };
    for (const l of [...this.checkListeners]) l(p.spec.name, outcome);
    const after = this.current();
    if (after.ready !== before.ready || after.probes.some((s, i) => s.ready !== before.probes[i].ready || s.lastSuccess !== before.probes[i].lastSuccess)) {
      if (after.ready !== before.ready) this.opts.log?.info(after.ready ? 'workload probes passing' : 'workload probes failing', { probe: p.spec.name, message: outcome.message });
      for (const l of [...this.changeListeners]) l(after);
    }
    // The next check starts one period after this one started, and never overlaps it.
    this.schedule(p, Math.max(0, p.spec.periodMs - (this.clock.now() - started)));
  }
}
