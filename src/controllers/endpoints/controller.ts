// The I/O half of the EndpointSlice controller: a per-Service work queue fed by the index and the
// slice and Endpoints watches; each item runs the pure reconcile and applies its plan through the
// API, and mirrors the same addresses into the Service's core/v1 Endpoints. Only the leader writes.
import { ApiException, DiscoveryV1Api, type V1EndpointSlice, type V1Endpoints } from '@kubernetes/client-node';
import type { ApiClients } from '../../core/kube-clients.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { WorkQueue } from '../runtime/workqueue.js';
import { reconcileEndpointSlices } from './reconcile.js';
import { SliceStore } from './slice-store.js';
import { EndpointsMirror } from './mirror-writer.js';
import type { WorkloadIndex } from './index.js';

export interface EndpointSliceControllerOptions {
  api: ApiClients;
  index: WorkloadIndex;
  clock: Clock;
  log: Logger;
  concurrency?: number;
  /** Called after each slice write (benchmarks measure latency with it). */
  onWrite?: (op: 'create' | 'update' | 'delete', slice: V1EndpointSlice) => void;
  /** Called after each core/v1 Endpoints write. */
  onEndpointsWrite?: (op: 'create' | 'update' | 'delete', endpoints: V1Endpoints) => void;
}

export class EndpointSliceController {
  readonly slices = new SliceStore();
  readonly mirror: EndpointsMirror;
  readonly queue: WorkQueue;
  private leading = false;
  private readonly api: DiscoveryV1Api;

  constructor(private readonly opts: EndpointSliceControllerOptions) {
    this.api = opts.api.make(DiscoveryV1Api);
    this.mirror = new EndpointsMirror(opts.api, opts.onEndpointsWrite);
    this.queue = new WorkQueue({ clock: opts.clock, log: opts.log, concurrency: opts.concurrency ?? 16, worker: (key) => this.sync(key) });
  }

  enqueue(serviceKeys: Iterable<string>): void {
    if (!this.leading) return;
    for (const k of serviceKeys) this.queue.add(k);
  }

  /** Leadership changes: a new leader looks at every Service (and every Service that still has slices). */
  setLeading(leading: boolean): void {
    this.leading = leading;
    if (leading) this.enqueue(new Set([...this.opts.index.services.keys(), ...this.slices.serviceKeys(), ...this.mirror.serviceKeys()]));
  }

  /** A core/v1 Endpoints object we manage was seen on the watch. */
  endpointsSeen(endpoints: V1Endpoints): void {
    if (this.mirror.observe(endpoints)) this.enqueue([this.mirror.keyOf(endpoints)]);
  }

  endpointsGone(endpoints: V1Endpoints): void {
    if (this.mirror.forget(endpoints)) this.enqueue([this.mirror.keyOf(endpoints)]);
  }

  sliceSeen(slice: V1EndpointSlice): void {
    if (this.slices.observe(slice)) this.enqueue([this.slices.serviceKeyOf(slice)]);
  }

  sliceGone(slice: V1EndpointSlice): void {
    if (this.slices.forget(slice)) this.enqueue([this.slices.serviceKeyOf(slice)]);
  }

  stop(): void {
    this.leading = false;
    this.queue.stop();
  }

  private async sync(serviceKey: string): Promise<void> {
    if (!this.leading) return;
    const service = this.opts.index.services.get(serviceKey);
    const existing = this.slices.forService(serviceKey);
    // A deleted Service's slices go with it (ownerReference GC); deleting them here as well makes
    // that immediate and covers an API without a garbage collector.
    const workloads = this.opts.index.workloadsSelectedBy(serviceKey);
    const plan = service ? reconcileEndpointSlices(service, workloads, existing) : { create: [], update: [], delete: existing };
    const namespace = serviceKey.slice(0, serviceKey.indexOf('/'));
    await Promise.all([
      this.mirror.sync(serviceKey, service, workloads),
      ...plan.update.map(async (body) => {
        try {
          this.written('update', await this.api.replaceNamespacedEndpointSlice({ name: body.metadata!.name!, namespace, body }));
        } catch (e) {
          await this.refresh(namespace, body.metadata!.name!, e);
        }
      }),
      ...plan.create.map(async (body) => {
        try {
          this.written('create', await this.api.createNamespacedEndpointSlice({ namespace, body }));
        } catch (e) {
          await this.refresh(namespace, body.metadata!.name!, e);
        }
      }),
      ...plan.delete.map(async (slice) => {
        try {
          await this.api.deleteNamespacedEndpointSlice({ name: slice.metadata!.name!, namespace });
        } catch (e) {
          if (!(e instanceof ApiException && e.code === 404)) throw e;
        }
        this.slices.forget(slice, true);
        this.opts.onWrite?.('delete', slice);
      }),
    ]);
  }

  private written(op: 'create' | 'update', slice: V1EndpointSlice): void {
    this.slices.observe(slice, true);
    this.opts.onWrite?.(op, slice);
  }

  /** After a conflict (409) or a missing slice (404), learn the current state, then fail so the queue retries. */
  private async refresh(namespace: string, name: string, error: unknown): Promise<never> {
    if (error instanceof ApiException && (error.code === 409 || error.code === 404)) {
      try {
        this.slices.observe(await this.api.readNamespacedEndpointSlice({ name, namespace }), true);
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) this.slices.forget({ metadata: { name, namespace } } as V1EndpointSlice, false);
      }
    }
    throw error;
  }
}
