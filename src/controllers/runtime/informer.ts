// A list+watch informer (@kubernetes/client-node's makeInformer) that restarts itself after errors
// with backoff (the library's stops for good) and tells when its first list has arrived.
import { makeInformer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';

export interface InformerHandlers<T> {
  upsert(obj: T): void;
  remove(obj: T): void;
}

export interface RunningInformer<T> {
  cache: ObjectCache<T>;
  /** Resolves once the first list has been delivered to the handlers. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export interface InformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Watch path, e.g. /api/v1/services. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  clock: Clock;
  log: Logger;
  handlers: InformerHandlers<T>;
}

/** Starts the informer; it keeps retrying until stopped. */
export function startInformer<T extends KubernetesObject>(opts: InformerOptions<T>): RunningInformer<T> {
  let listed!: () => void;
  const firstList = new Promise<void>((resolve) => (listed = resolve));
  const list = async () => {
    const result = await opts.list();
    queueMicrotask(listed); // after the informer has delivered the items
    return result;
  };
  const informer = makeInformer<T>(opts.kubeConfig, opts.path, list, opts.labelSelector);
  informer.on('add', (o) => opts.handlers.upsert(o));
  informer.on('update', (o) => opts.handlers.upsert(o));
  informer.on('delete', (o) => opts.handlers.remove(o));
  let stopped = false;
  let failures = 0;
  let timer: TimerHandle | undefined;
  informer.on('connect', () => {
    failures = 0;
  });
  informer.on('error', (err) => {
    if (stopped) return;
    failures++;
    const delay = Math.min(100 * 2 ** Math.min(failures, 8), 10_000);
    opts.log.debug('watch failed; restarting', { path: opts.path, delayMs: delay, error: err });
    timer = opts.clock.setTimeout(() => {
      if (!stopped) void informer.start();
    }, delay);
    timer.unref?.();
  });
  void informer.start();
  return {
    cache: informer,
    synced: firstList,
    async stop() {
      stopped = true;
      if (timer) opts.clock.clearTimeout(timer);
      await informer.stop();
    },
  };
}
