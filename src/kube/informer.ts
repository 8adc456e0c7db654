// The one list+watch informer of the control plane, over @kubernetes/client-node's Watch: a cache of
// one resource type kept by a list, then a watch from its resourceVersion; on any error a relist
// after bounded exponential backoff with jitter; a type the API does not serve (404) reads as empty
// and is retried slowly. Subscribers hear every change (and, if they ask, a periodic resync);
// nothing it started outlives stop(), even a stop that lands while a list or a watch request is pending.
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { listJson } from './list-json.js';
import type { InformerMetrics } from './metrics.js';

export type ChangeKind = 'add' | 'update' | 'delete';
export type ChangeHandler<T> = (kind: ChangeKind, obj: T) => void;

export interface Backoff {
  minMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { minMs: 200, maxMs: 5_000 };
/** Retry period of a type the API answers 404 for (not installed yet, or not served like pods in the embedded API). */
export const NOT_SERVED_RETRY_MS = 30_000;

/** The delay before retry `attempt` (1, 2, …): doubling from minMs up to maxMs, the upper half jittered. */
export function backoffDelay(attempt: number, policy: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.minMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface InformerOptions {
  kubeConfig: KubeConfig;
  /** List and watch path, e.g. /api/v1/services or /api/v1/namespaces/outpost/configmaps. */
  path: string;
  /** The metric label, e.g. "services" or "configmaps/outpost". */
  resource: string;
  /** Only objects with these labels (a labelSelector query string), for a type only one reader needs in part. */
  labelSelector?: string;
  clock: Clock;
  log: Logger;
  metrics?: InformerMetrics;
  /** Period of the resync delivered to subscribers that ask for it; 0 = none. */
  resyncMs?: number;
  backoff?: Backoff;
  random?: () => number;
  /** The list call (tests replace it to hold a list pending); defaults to a GET through the kubeconfig. */
  list?: (path: string) => Promise<{ statusCode: number; body: any }>;
}

export interface SubscribeOptions {
  /** Hear the objects already cached as "add" at once (default true): a late subscriber misses nothing. */
  replay?: boolean;
  /** Hear every cached object again as "update" each resync period (client-go's resync), to re-reconcile. */
  resync?: boolean;
}

class HttpStatusError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const statusOf = (e: unknown): number | undefined => (e as { statusCode?: number; code?: number })?.statusCode ?? (e as { code?: number })?.code;
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String((e as { message?: unknown })?.message ?? e));

export class Informer<T extends KubernetesObject = KubernetesObject> {
  private readonly objects = new Map<string, Map<string, T>>();
  private readonly subscribers = new Map<ChangeHandler<T>, SubscribeOptions>();
  private readonly watcher: Watch;
  private resourceVersion = '';
  private started = false;
  private stopped = false;
  private connected = false;
  private failures = 0;
  private timer: TimerHandle | undefined;
  private wake: (() => void) | undefined;
  private resyncTimer: TimerHandle | undefined;
  private request: AbortController | undefined;
  private markSynced!: () => void;
  /** Resolves after the first list was delivered to the subscribers (or the type is not served). */
  readonly synced: Promise<void>;
  /** Retries after errors (a 404 "not served" retry is not one). */
  restarts = 0;

  constructor(private readonly opts: InformerOptions) {
    this.synced = new Promise((r) => (this.markSynced = r));
    this.watcher = new Watch(opts.kubeConfig);
  }

  get path(): string {
    return this.opts.path;
  }

  /** Starts listing and watching (once; later calls do nothing). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.run();
    this.scheduleResync();
  }

  /** Adds a change handler; returns the function that removes it. */
  subscribe(handler: ChangeHandler<T>, options: SubscribeOptions = {}): () => void {
    this.subscribers.set(handler, options);
    if (options.replay !== false) for (const o of this.items()) this.deliver(handler, 'add', o);
    return () => void this.subscribers.delete(handler);
  }

  /** True while the cache follows the API: listed, and its watch open or about to reopen without an error. */
  healthy(): boolean {
    return this.connected;
  }

  items(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.objects.get(namespace)?.values() ?? [])];
    const out: T[] = [];
    for (const ns of this.objects.values()) out.push(...ns.values());
    return out;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace ?? '')?.get(name);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.connected = false;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    if (this.resyncTimer) this.opts.clock.clearTimeout(this.resyncTimer);
    this.timer = this.resyncTimer = undefined;
    this.wake?.();
    this.request?.abort();
    this.request = undefined;
    this.subscribers.clear();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let retryMs: number;
      try {
        if (!this.resourceVersion) await this.relist();
        if (this.stopped) return;
        await this.watchOnce();
        continue; // the server ended the watch: watch again from the last resourceVersion
      } catch (e) {
        if (this.stopped) return;
        this.connected = false;
        const status = statusOf(e);
        this.resourceVersion = '';
        if (status === 410) continue; // expired: relist at once
        if (status === 404) {
          retryMs = NOT_SERVED_RETRY_MS;
          this.opts.log.debug('resource type not served; retrying later', { path: this.opts.path, delayMs: retryMs });
        } else {
          this.failures++;
          this.restarts++;
          this.opts.metrics?.restarted(this.opts.resource);
          retryMs = backoffDelay(this.failures, this.opts.backoff ?? DEFAULT_BACKOFF, this.opts.random);
          this.opts.log.debug('list or watch failed; retrying', { path: this.opts.path, delayMs: retryMs, error: errorText(e) });
        }
      }
      await this.sleep(retryMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = this.opts.clock.setTimeout(() => {
        this.timer = this.wake = undefined;
        resolve();
      }, ms);
      this.timer.unref?.();
    });
  }

  private async relist(): Promise<void> {
    const path = this.opts.labelSelector ? `${this.opts.path}?labelSelector=${encodeURIComponent(this.opts.labelSelector)}` : this.opts.path;
    const res = await (this.opts.list ?? ((p: string) => listJson(this.opts.kubeConfig, p)))(path);
    if (this.stopped) return;
    if (res.statusCode === 404) {
      // Not served: an empty cache (objects seen before are deleted) and synced, so readers do not wait.
      this.replaceAll([]);
      this.markSynced();
      throw new HttpStatusError(404, `${this.opts.path} is not served`);
    }
    if (res.statusCode !== 200) throw new HttpStatusError(res.statusCode, `listing ${this.opts.path}: HTTP ${res.statusCode}`);
    this.replaceAll((res.body?.items ?? []) as T[]);
    this.resourceVersion = String(res.body?.metadata?.resourceVersion ?? '');
    this.opts.metrics?.listed(this.opts.resource);
    this.connected = true;
    this.markSynced();
  }

  /** One watch request; resolves when the server ends it, rejects on an error. */
  private async watchOnce(): Promise<void> {
    let ended!: (err: unknown) => void;
    const done = new Promise<void>((resolve, reject) => (ended = (err) => (err && !this.stopped ? reject(err) : resolve())));
    let expired = false;
    const onEvent = (phase: string, obj: any) => {
      if (this.stopped) return;
      if (phase === 'ERROR') {
        if (statusOf(obj) === 410) expired = true;
        return;
      }
      if (phase === 'ADDED' || phase === 'MODIFIED') this.upsert(obj as T);
      else if (phase === 'DELETED') this.remove(obj as T);
      if (obj?.metadata?.resourceVersion) this.resourceVersion = String(obj.metadata.resourceVersion);
    };
    // `done` may run before watch() returns (a watch refused at once): then there is nothing to abort.
    let finished = false;
    let refused = false;
    let counted = false;
    const controller = await this.watcher.watch(this.opts.path, { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, labelSelector: this.opts.labelSelector }, onEvent, (err) => {
      finished = true;
      if (counted) this.opts.metrics?.watchClosed(this.opts.resource);
      else refused = Boolean(err);
      ended(err ?? (expired ? new HttpStatusError(410, 'watch expired') : null));
    });
    if (!refused) {
      counted = true;
      this.opts.metrics?.watchOpened(this.opts.resource);
      if (finished) this.opts.metrics?.watchClosed(this.opts.resource);
    }
    if (this.stopped) {
      // stop() landed while the watch request was pending: end it now, so it does not outlive stop().
      controller.abort();
      return;
    }
    if (!finished) {
      this.request = controller;
      this.connected = true;
      this.failures = 0;
    }
    try {
      await done;
    } finally {
      if (this.request === controller) this.request = undefined;
    }
  }

  private replaceAll(items: T[]): void {
    const fresh = new Set(items.map((o) => keyOf(o)));
    for (const o of this.items()) if (!fresh.has(keyOf(o))) this.remove(o);
    for (const o of items) this.upsert(o);
  }

  private upsert(obj: T): void {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let byName = this.objects.get(ns);
    if (!byName) this.objects.set(ns, (byName = new Map()));
    const before = byName.get(name);
    if (before && before.metadata?.resourceVersion && before.metadata.resourceVersion === obj.metadata?.resourceVersion) return;
    byName.set(name, obj);
    this.emit(before ? 'update' : 'add', obj);
  }

  private remove(obj: T): void {
    const ns = obj.metadata?.namespace ?? '';
    const byName = this.objects.get(ns);
    const before = byName?.get(obj.metadata?.name ?? '');
    if (!byName || !before) return;
    byName.delete(obj.metadata?.name ?? '');
    if (byName.size === 0) this.objects.delete(ns);
    this.emit('delete', before);
  }

  private emit(kind: ChangeKind, obj: T): void {
    for (const handler of [...this.subscribers.keys()]) this.deliver(handler, kind, obj);
  }

  private deliver(handler: ChangeHandler<T>, kind: ChangeKind, obj: T): void {
    try {
      handler(kind, obj);
    } catch (e) {
      // One consumer's bug must not starve the others of events.
      this.opts.log.warn('a change handler failed', { path: this.opts.path, error: errorText(e) });
    }
  }

  private scheduleResync(): void {
    const period = this.opts.resyncMs ?? 0;
    if (period <= 0 || this.stopped) return;
    this.resyncTimer = this.opts.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      if (this.stopped) return;
      if (this.connected) {
        for (const [handler, o] of [...this.subscribers]) if (o.resync) for (const obj of this.items()) this.deliver(handler, 'update', obj);
      }
      this.scheduleResync();
    }, period);
    this.resyncTimer.unref?.();
  }
}

const keyOf = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
