// A deduplicating, rate-limited work queue (like client-go's workqueue): a key added many times
// while waiting is processed once; a key added while being processed is processed again after;
// failures retry with per-key exponential backoff. Timing goes through the injected Clock.
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';

export interface WorkQueueOptions {
  clock: Clock;
  log: Logger;
  /** Processes one key; throwing retries it later with backoff. */
  worker: (key: string) => Promise<void>;
  /** Keys processed at the same time (each waits on the API). */
  concurrency?: number;
  /** First retry delay, doubled per consecutive failure (client-go: 5 ms). */
  baseRetryMs?: number;
  /** Longest retry delay. */
  maxRetryMs?: number;
}

export class WorkQueue {
  private readonly pending: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, TimerHandle>();
  private readonly idleWaiters: (() => void)[] = [];
  private running = 0;
  private stopped = false;
  private scheduled = false;

  constructor(private readonly opts: WorkQueueOptions) {}

  /** Queues `key` now (a no-op if it already waits). */
  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.pending.push(key);
    this.schedule();
  }

  /** Queues `key` after `ms` (replacing an earlier delayed add of it). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const previous = this.delayed.get(key);
    if (previous) this.opts.clock.clearTimeout(previous);
    const handle = this.opts.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    handle.unref?.();
    this.delayed.set(key, handle);
  }

  /** Number of keys waiting or in progress. */
  get length(): number {
    return this.queued.size + this.processing.size;
  }

  /** Resolves when nothing waits or runs (delayed retries not counted). For tests and benchmarks. */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.delayed.values()) this.opts.clock.clearTimeout(h);
    this.delayed.clear();
    this.pending.length = 0;
    this.queued.clear();
    this.dirty.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const concurrency = this.opts.concurrency ?? 8;
    while (!this.stopped && this.running < concurrency && this.pending.length) {
      const key = this.pending.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.running++;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    try {
      await this.opts.worker(key);
      this.failures.delete(key);
    } catch (e) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min((this.opts.baseRetryMs ?? 5) * 2 ** (n - 1), this.opts.maxRetryMs ?? 30_000);
      this.opts.log.debug('work item failed; retrying', { key, attempt: n, delayMs: delay, error: e });
      if (n === 5) this.opts.log.warn('work item keeps failing', { key, error: e });
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      this.running--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
