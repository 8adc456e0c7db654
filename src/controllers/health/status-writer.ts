// Writes ExternalWorkloads' Ready condition through the status subresource, one key at a time and
// only when status, reason or message changes (the latest desired condition wins).
import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ApiClients } from '../../core/kube-clients.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { WORKLOAD_GROUP, WORKLOAD_VERSION } from '../labels.js';
import { WorkQueue } from '../runtime/workqueue.js';
import type { WorkloadIndex } from '../endpoints/index.js';
import type { WorkloadCondition, WorkloadProxyStatus } from '../../kube/objects.js';
import { applyCondition, neverReported, readyConditionOf } from './conditions.js';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class WorkloadStatusWriter {
  private readonly desired = new Map<string, { condition: WorkloadCondition; initial: boolean }>();
  private readonly desiredProxy = new Map<string, WorkloadProxyStatus>();
  private readonly queue: WorkQueue;
  private readonly api: CustomObjectsApi;

  constructor(private readonly opts: { api: ApiClients; index: WorkloadIndex; clock: Clock; log: Logger }) {
    this.api = opts.api.make(CustomObjectsApi);
    this.queue = new WorkQueue({ clock: opts.clock, log: opts.log, concurrency: 16, worker: (k) => this.sync(k) });
  }

  /**
   * Asks for `condition` on the workload. `initial` conditions (no proxy has reported) are dropped if,
   * by the time they would be written, a proxy has reported (through this or another control plane).
   */
  set(workloadKey: string, condition: WorkloadCondition, initial = false): void {
    this.desired.set(workloadKey, { condition, initial });
    this.queue.add(workloadKey);
  }

  /** Asks for status.proxy on the workload; written only when it differs from what is stored. */
  setProxy(workloadKey: string, proxy: WorkloadProxyStatus): void {
    this.desiredProxy.set(workloadKey, proxy);
    this.queue.add(workloadKey);
  }

  get length(): number {
    return this.queue.length;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    await this.syncProxy(key);
    const wanted = this.desired.get(key);
    const ew = this.opts.index.workloads.get(key);
    if (!wanted || !ew) return;
    const { condition, initial } = wanted;
    const conditions = initial && !neverReported(readyConditionOf(ew)) ? undefined : applyCondition(ew.status?.conditions, condition);
    if (conditions) {
      const [namespace, name] = key.split('/');
      // An initial condition must not overwrite a report it has not seen: the resourceVersion makes
      // the write conditional (409 on a newer object; the queue retries on the fresh cache).
      const body = initial ? { metadata: { resourceVersion: ew.metadata.resourceVersion }, status: { conditions } } : { status: { conditions } };
      try {
        await this.api.patchNamespacedCustomObjectStatus(
          { group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: 'externalworkloads', namespace, name, body },
          MERGE_PATCH,
        );
        this.opts.log.debug('workload condition written', { workload: key, status: condition.status, reason: condition.reason });
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 404)) throw e;
      }
    }
    if (this.desired.get(key) === wanted) this.desired.delete(key);
  }

  private async syncProxy(key: string): Promise<void> {
    const wanted = this.desiredProxy.get(key);
    const ew = this.opts.index.workloads.get(key);
    if (!wanted || !ew) return;
    const stored = (ew.status as { proxy?: WorkloadProxyStatus } | undefined)?.proxy;
    if (!sameProxyStatus(stored, wanted)) {
      const [namespace, name] = key.split('/');
      try {
        await this.api.patchNamespacedCustomObjectStatus(
          { group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: 'externalworkloads', namespace, name, body: { status: { proxy: wanted } } },
          MERGE_PATCH,
        );
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 404)) throw e;
      }
    }
    if (this.desiredProxy.get(key) === wanted) this.desiredProxy.delete(key);
  }
}

/** status.proxy as the health API keeps it (see the ExternalWorkload schema). */

function sameProxyStatus(a: WorkloadProxyStatus | undefined, b: WorkloadProxyStatus): boolean {
  return !!a && a.connected === b.connected && a.version === b.version && a.adminAddress === b.adminAddress && a.tapAddress === b.tapAddress && a.inboundPort === b.inboundPort && a.certificateNotAfter === b.certificateNotAfter;
}
