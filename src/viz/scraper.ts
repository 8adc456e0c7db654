// Scrapes every discovered proxy's /metrics each interval (all in parallel, each with a timeout)
// into its bounded history. A proxy that disappears from discovery loses its history.
import http from 'node:http';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { ScrapedTarget } from './backend.js';
import type { WorkloadInfo } from './workload-info.js';
import { TargetHistory } from './history.js';

export interface TargetState extends ScrapedTarget {
  workload: WorkloadInfo;
  /** Whether the last scrape succeeded. */
  up: boolean;
  lastError?: string;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export class Scraper {
  readonly targets = new Map<string, TargetState>();
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  /** Resolves after each completed round, for tests. */
  private roundWaiters: (() => void)[] = [];
  rounds = 0;
  /** Keys ("namespace/name") of workloads whose proxy answered the last scrape. */
  upWorkloads = new Set<string>();

  constructor(
    private readonly opts: { intervalMs: number; clock: Clock; log: Logger; workloads: () => WorkloadInfo[] },
  ) {}

  start(): void {
    void this.round();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.agent.destroy();
  }

  nextRound(): Promise<void> {
    return new Promise((r) => this.roundWaiters.push(r));
  }

  /** One scrape of every target; schedules the next. */
  async round(): Promise<void> {
    const started = this.opts.clock.now();
    const wanted = new Map<string, WorkloadInfo>();
    for (const w of this.opts.workloads()) if (w.adminAddress) wanted.set(`${w.key}@${w.adminAddress}`, w);
    for (const k of this.targets.keys()) if (!wanted.has(k)) this.targets.delete(k);
    await Promise.all(
      [...wanted].map(async ([k, w]) => {
        let t = this.targets.get(k);
        if (!t) {
          t = { workload: w, labels: w.labels, history: new TargetHistory(this.opts.intervalMs), up: false };
          this.targets.set(k, t);
        }
        t.workload = w;
        t.labels = w.labels;
        try {
          const text = await this.fetchMetrics(w.adminAddress!, Math.min(5000, Math.max(500, this.opts.intervalMs)));
          t.history.ingestText(this.opts.clock.now(), text);
          t.up = true;
          t.lastError = undefined;
        } catch (e) {
          if (t.up || !t.lastError) this.opts.log.debug('scrape failed', { target: k, error: (e as Error).message });
          t.up = false;
          t.lastError = (e as Error).message;
        }
      }),
    );
    this.rounds++;
    const up = new Set<string>();
    for (const t of this.targets.values()) if (t.up) up.add(t.workload.key);
    this.upWorkloads = up;
    for (const w of this.roundWaiters.splice(0)) w();
    if (this.stopped) return;
    const elapsed = this.opts.clock.now() - started;
    this.timer = this.opts.clock.setTimeout(() => void this.round(), Math.max(0, this.opts.intervalMs - elapsed));
    this.timer.unref?.();
  }

  private fetchMetrics(address: string, timeoutMs: number): Promise<string> {
    const sep = address.lastIndexOf(':');
    const host = address.slice(0, sep).replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const req = http.get({ host, port: Number(address.slice(sep + 1)), path: '/metrics', agent: this.agent, timeout: timeoutMs }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`HTTP ${res.statusCode}`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error('metrics too large'));
          else chunks.push(c);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
  }
}
