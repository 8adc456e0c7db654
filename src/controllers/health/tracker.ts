// Per-workload heartbeat state, in memory and keyed by uid: each proxy report sets the Ready
// condition and re-arms a timer; when it fires (no report for the grace period, whether the stream
// closed or went silent) the workload turns not ready. Timing through the injected Clock.
import type { Clock, TimerHandle } from '../../core/clock.js';
import { parseDuration } from '../../core/flags.js';
import { DISCONNECT_GRACE_ANNOTATION } from '../labels.js';
import type { WorkloadCondition } from '../../kube/objects.js';
import { heartbeatLostCondition, reportCondition, type ProbeOutcome } from './conditions.js';

export interface HealthTrackerOptions {
  clock: Clock;
  /** The disconnect grace for this workload (its group's override, else the flag). */
  graceMsFor(workloadKey: string): number;
  /** Hands a desired Ready condition to the status writer (which writes only on change). */
  setCondition(workloadKey: string, condition: WorkloadCondition): void;
}

interface Tracked {
  key: string;
  lastReportAt?: number;
  timer?: TimerHandle;
  streams: number;
}

/** The disconnect grace of a workload: its group's `outpost.io/disconnect-grace` if valid, else the default (the flag). */
export function disconnectGraceFor(group: { metadata: { annotations?: Record<string, string> } } | undefined, defaultMs: number): number {
  const override = group?.metadata.annotations?.[DISCONNECT_GRACE_ANNOTATION];
  const parsed = override ? parseDuration(override) : undefined;
  return parsed !== undefined && parsed > 0 ? parsed : defaultMs;
}

/** How often a proxy should report: a third of the grace, so two lost reports are tolerated (10 s at most, 100 ms at least). */
export function heartbeatIntervalFor(graceMs: number): number {
  return Math.max(100, Math.min(10_000, Math.floor(graceMs / 3)));
}

export class HealthTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly opts: HealthTrackerOptions) {}

  has(uid: string): boolean {
    return this.tracked.has(uid);
  }

  streamOpened(uid: string, key: string): void {
    this.entry(uid, key).streams++;
  }

  /** True while at least one report stream for the workload is open. */
  connected(uid: string): boolean {
    return (this.tracked.get(uid)?.streams ?? 0) > 0;
  }

  streamClosed(uid: string): void {
    const t = this.tracked.get(uid);
    if (t) t.streams = Math.max(0, t.streams - 1);
  }

  report(uid: string, key: string, report: { ready: boolean; probes: ProbeOutcome[] }): void {
    const t = this.entry(uid, key);
    t.lastReportAt = this.opts.clock.now();
    this.opts.setCondition(key, reportCondition(report, t.lastReportAt));
    this.arm(t);
  }

  /**
   * A workload a proxy reported ready for before this control plane started: its proxy gets the
   * grace period to reconnect here before it turns not ready.
   */
  adopt(uid: string, key: string): void {
    if (this.tracked.has(uid)) return;
    this.arm(this.entry(uid, key));
  }

  forget(uid: string): void {
    const t = this.tracked.get(uid);
    if (t?.timer) this.opts.clock.clearTimeout(t.timer);
    this.tracked.delete(uid);
  }

  stop(): void {
    for (const uid of [...this.tracked.keys()]) this.forget(uid);
  }

  private entry(uid: string, key: string): Tracked {
    let t = this.tracked.get(uid);
    if (!t) this.tracked.set(uid, (t = { key, streams: 0 }));
    t.key = key;
    return t;
  }

  private arm(t: Tracked): void {
    if (t.timer) this.opts.clock.clearTimeout(t.timer);
    const grace = this.opts.graceMsFor(t.key);
    t.timer = this.opts.clock.setTimeout(() => {
      t.timer = undefined;
      this.opts.setCondition(t.key, heartbeatLostCondition(grace, t.lastReportAt, this.opts.clock.now()));
    }, grace);
    t.timer.unref?.();
  }
}
