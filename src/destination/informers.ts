// Informer caches over the API (through @kubernetes/client-node only) that survive API-server
// restarts: client-node's informers stop on any error but 410, so each one is restarted with
// exponential backoff. A resource type the API does not serve (404) reads as empty and is retried.
import https from 'node:https';
import http from 'node:http';
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';

export type ChangeKind = 'add' | 'update' | 'delete';
export type ChangeHandler<T> = (kind: ChangeKind, obj: T) => void;

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5_000;
const NOT_SERVED_RETRY_MS = 30_000;

/** GET a list path as plain JSON (the same shape watch events carry), through the kubeconfig's credentials. */
export async function listJson(kc: KubeConfig, path: string): Promise<{ statusCode: number; body: any }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  const opts: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  // No keep-alive pool: lists are rare, and pooled sockets would keep a short CLI process alive.
  if (!opts.agent) opts.agent = false;
  const lib = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ statusCode: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`timeout listing ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * client-node's ListWatch can start a watch after stop() when stop() lands while it lists; this
 * Watch aborts such late requests (and every open one on close) so that nothing outlives stop().
 */
class ClosableWatch extends Watch {
  private readonly open = new Set<AbortController>();
  private closed = false;

  override async watch(path: string, query: Record<string, any>, callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    // `done` may run before super.watch returns (a watch refused at once, e.g. 404): no controller yet.
    const state: { controller?: AbortController; ended: boolean } = { ended: false };
    const controller = await super.watch(path, query, callback, (err) => {
      state.ended = true;
      if (state.controller) this.open.delete(state.controller);
      done(err);
    });
    state.controller = controller;
    if (this.closed) controller.abort();
    else if (!state.ended) this.open.add(controller);
    return controller;
  }

  close(): void {
    this.closed = true;
    for (const c of this.open) c.abort();
    this.open.clear();
  }
}

export class ResilientInformer<T extends KubernetesObject> {
  private informer: ListWatch<T>;
  private readonly watch: ClosableWatch;
  private backoffMs = BACKOFF_MIN_MS;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** The API answered 404 for this type: retried slowly and not counted as a restart. */
  private notServed = false;
  private resolveSynced!: () => void;
  /** Resolves after the first list answered (or the type is not served). */
  readonly synced: Promise<void>;
  /** Restarts after errors, for metrics and tests. */
  restarts = 0;

  constructor(
    private readonly kc: KubeConfig,
    readonly path: string,
    private readonly log: Logger,
    private readonly clock: Clock,
    onChange: ChangeHandler<T>,
  ) {
    this.synced = new Promise((r) => (this.resolveSynced = r));
    this.watch = new ClosableWatch(kc);
    this.informer = new ListWatch<T>(path, this.watch, () => this.list(), false);
    this.informer.on('add', (o) => onChange('add', o));
    this.informer.on('update', (o) => onChange('update', o));
    this.informer.on('delete', (o) => onChange('delete', o));
    this.informer.on('error', (err) => this.restartLater(err));
  }

  start(): void {
    this.informer.start().catch((err) => this.restartLater(err));
  }

  private async list(): Promise<any> {
    const res = await listJson(this.kc, this.path);
    if (res.statusCode === 404) {
      // Not served (e.g. pods in the embedded API): an empty list; the watch will fail and retry later.
      this.notServed = true;
      this.resolveSynced();
      return { items: [], metadata: { resourceVersion: '' } };
    }
    if (res.statusCode !== 200) {
      const err: any = new Error(`listing ${this.path}: HTTP ${res.statusCode}`);
      err.statusCode = res.statusCode;
      throw err;
    }
    this.backoffMs = BACKOFF_MIN_MS;
    this.notServed = false;
    this.resolveSynced();
    return { ...res.body, items: res.body.items ?? [] };
  }

  private restartLater(err: unknown): void {
    if (this.stopped || this.timer) return;
    const delay = this.notServed ? NOT_SERVED_RETRY_MS : this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.log.debug('informer stopped; restarting', { path: this.path, delayMs: delay, error: err instanceof Error ? err.message : String((err as any)?.message ?? err) });
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      if (!this.notServed) this.restarts++;
      this.start();
    }, delay);
    this.timer.unref?.();
  }

  items(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.informer.stop();
    this.watch.close();
  }
}
