// Keeps the workload's probe set running and replaceable at run time (the control plane sends the
// effective probes in its health acks): unchanged probes keep their state, invalid ones fail closed.
import { systemClock, type Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { WorkloadPort, WorkloadProbe } from '../../core/workloads/effective.js';
import type { CheckOutcome } from './checks.js';
import { ProbeRunner, type HealthState, type ProbeStatus } from './runner.js';
import { parseProbes, type ProbeSpecError } from './spec.js';

export const PENDING_PROBE_NAME = 'probes';

export interface ProbeSupervisorOptions {
  /** Probes known at start (e.g. from local configuration). Undefined = wait for the control plane. */
  probes?: WorkloadProbe[];
  /** What to run when the control plane turns out not to send probes. Default: none. */
  fallbackProbes?: WorkloadProbe[];
  /** The workload's ports, for probes that name a port. */
  ports?: WorkloadPort[];
  clock?: Clock;
  log?: Logger;
  /**
   * The verdict of the proxy this one replaces (restart without an outage, handover.ts): reported
   * until this supervisor has its probe configuration and every probe has run once.
   */
  inherited?: HealthState;
}

interface Entry {
  key: string;
  runner?: ProbeRunner;
  /** For an invalid probe: its fixed failing status. */
  invalid?: ProbeStatus;
}

export class ProbeSupervisor {
  private readonly clock: Clock;
  private entries: Entry[] = [];
  private pending: boolean;
  private inherited: HealthState | undefined;
  private running = false;
  private lastProbesKey: string | undefined;
  private readonly changeListeners = new Set<(s: HealthState) => void>();
  private readonly checkListeners = new Set<(name: string, outcome: CheckOutcome) => void>();

  constructor(private readonly opts: ProbeSupervisorOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.pending = opts.probes === undefined;
    this.inherited = opts.inherited;
    if (opts.probes) this.setProbes(opts.probes);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const e of this.entries) e.runner?.start();
  }

  stop(): void {
    this.running = false;
    for (const e of this.entries) e.runner?.stop();
  }

  /** Not ready while waiting for the probe configuration; then ready when every probe is. */
  current(): HealthState {
    if (this.inherited) {
      const mine = this.pending ? undefined : this.entries.flatMap((e) => (e.invalid ? [e.invalid] : e.runner!.current().probes));
      if (!mine || mine.some((p) => p.checkedAt === 0)) return this.inherited;
      this.inherited = undefined;
    }
    if (this.pending) return { ready: false, probes: [{ name: PENDING_PROBE_NAME, ready: false, lastSuccess: false, message: 'waiting for the probe configuration from the control plane', checkedAt: 0 }] };
    const probes = this.entries.flatMap((e) => (e.invalid ? [e.invalid] : e.runner!.current().probes));
    return { ready: probes.every((p) => p.ready), probes };
  }

  onChange(listener: (s: HealthState) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onCheck(listener: (name: string, outcome: CheckOutcome) => void): () => void {
    this.checkListeners.add(listener);
    return () => this.checkListeners.delete(listener);
  }

  /** The probes the control plane sent; undefined when it sends none (then the fallback applies once). */
  applyControlPlaneProbes(probes: WorkloadProbe[] | undefined): void {
    if (probes) this.setProbes(probes);
    else if (this.pending) this.setProbes(this.opts.fallbackProbes ?? []);
  }

  /** Replaces the probe set. Returns the problems of invalid probes (they report as failing). */
  setProbes(probes: WorkloadProbe[]): ProbeSpecError[] {
    const probesKey = JSON.stringify(probes);
    this.pending = false;
    if (probesKey === this.lastProbesKey) return [];
    this.lastProbesKey = probesKey;
    const { specs, errors } = parseProbes(probes, this.opts.ports);
    for (const e of errors) this.opts.log?.warn('invalid probe', { field: e.field, reason: e.reason });

    const old = new Map(this.entries.map((e) => [e.key, e]));
    const next: Entry[] = [];
    for (const spec of specs) {
      const key = JSON.stringify(spec);
      const kept = old.get(key);
      if (kept) {
        old.delete(key);
        next.push(kept);
        continue;
      }
      const runner = new ProbeRunner({ probes: [spec], clock: this.clock, log: this.opts.log });
      runner.onChange(() => this.emitChange());
      runner.onCheck((name, outcome) => this.checkListeners.forEach((l) => l(name, outcome)));
      if (this.running) runner.start();
      next.push({ key, runner });
    }
    const byProbe = new Map<string, ProbeSpecError[]>();
    for (const e of errors) {
      const at = /^probes\[\d+\]/.exec(e.field)?.[0] ?? e.field;
      byProbe.set(at, [...(byProbe.get(at) ?? []), e]);
    }
    for (const [at, errs] of byProbe) {
      const message = `invalid probe: ${errs.map((e) => `${e.field}: ${e.reason}`).join('; ')}`;
      next.push({ key: `invalid:${at}:${message}`, invalid: { name: `invalid:${at}`, ready: false, lastSuccess: false, message, checkedAt: this.clock.now() } });
    }
    for (const gone of old.values()) gone.runner?.stop();
    this.entries = next;
    this.emitChange();
    return errors;
  }

  private emitChange(): void {
    const state = this.current();
    for (const l of [...this.changeListeners]) l(state);
  }
}
