// Deletes auto-registered ExternalWorkloads whose heartbeat has been lost for longer than their
// remove-after (rule.ts). Acts only while leading; one timer, armed for the earliest due workload and
// re-armed whenever an auto-registered workload or a group changes. Deletes are conditional on the
// uid and resourceVersion seen, so a VM that just came back is never removed.
import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { WorkloadIndex } from '../endpoints/index.js';
import type { ExternalWorkloadObject } from '../../kube/objects.js';
import { GROUP_LABEL } from '../../core/workloads/effective.js';
import { WORKLOAD_GROUP, WORKLOAD_VERSION } from '../labels.js';
import type { ApiClients } from '../../core/kube-clients.js';
import { AUTO_REGISTERED_ANNOTATION, removalDueAt, removeAfterFor } from './rule.js';

/** Reason of the Event recorded on the WorkloadGroup when a member is removed. */
export const REMOVED_EVENT_REASON = 'AutoRegisteredWorkloadRemoved';

/** Workload events within this window make one sweep (the sweep reads every workload). */
const COALESCE_MS = 100;

export interface AutoRemoverOptions {
  api: ApiClients;
  index: WorkloadIndex;
  clock: Clock;
  log: Logger;
  /** --auto-registered-remove-after. */
  defaultRemoveAfterMs: number;
  /** The disconnect grace of a workload (by key). */
  graceMsFor(workloadKey: string): number;
  onDelete?: (workloadKey: string) => void;
}

export class AutoRemover {
  private readonly api: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private leading = false;
  private stopped = false;
  private timer?: TimerHandle;
  private timerAt = Infinity;
  private sweeping = false;
  private again = false;

  constructor(private readonly opts: AutoRemoverOptions) {
    this.api = opts.api.make(CustomObjectsApi);
    this.core = opts.api.make(CoreV1Api);
  }

  setLeading(leading: boolean): void {
    this.leading = leading;
    if (leading) this.schedule(0);
    else this.clear();
  }

  /** A workload changed: worth a look only if it is auto-registered. Bursts of events make one sweep. */
  workloadChanged(ew: ExternalWorkloadObject): void {
    if (ew.metadata.annotations?.[AUTO_REGISTERED_ANNOTATION] === 'true') this.schedule(COALESCE_MS);
  }

  /** A group changed (its remove-after may have). */
  groupChanged(): void {
    this.schedule(COALESCE_MS);
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private clear(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Arms the timer for `delayMs` from now, unless it is already armed for earlier. */
  private schedule(delayMs: number): void {
    if (!this.leading || this.stopped) return;
    const at = this.opts.clock.now() + Math.max(0, delayMs);
    if (this.timer && this.timerAt <= at) return;
    this.clear();
    this.timerAt = at;
    this.timer = this.opts.clock.setTimeout(() => void this.sweep(), Math.max(0, delayMs));
    this.timer.unref?.();
  }

  /** Deletes every due workload and arms the timer for the next one. */
  private async sweep(): Promise<void> {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.sweeping) {
      this.again = true;
      return;
    }
    this.sweeping = true;
    try {
      const now = this.opts.clock.now();
      let next: number | undefined;
      const due: ExternalWorkloadObject[] = [];
      for (const [key, ew] of this.opts.index.workloads) {
        if (ew.metadata.annotations?.[AUTO_REGISTERED_ANNOTATION] !== 'true') continue;
        const at = removalDueAt(ew, { graceMs: this.opts.graceMsFor(key), removeAfterMs: removeAfterFor(this.opts.index.groupOf(ew), this.opts.defaultRemoveAfterMs) });
        if (at === undefined) continue;
        if (at <= now) due.push(ew);
        else next = next === undefined ? at : Math.min(next, at);
      }
      for (const ew of due) {
        if (!this.leading || this.stopped) return;
        if (!(await this.remove(ew))) next = Math.min(next ?? Infinity, this.opts.clock.now() + 5_000);
      }
      // Kubernetes times have second precision: look again a little after the due second.
      if (next !== undefined) this.schedule(next - this.opts.clock.now() + 50);
    } finally {
      this.sweeping = false;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      }
    }
  }

  /** An Event on the member's WorkloadGroup, so `kubectl describe workloadgroup` says where a VM went. Best effort. */
  private recordRemoval(ew: ExternalWorkloadObject, why: string | undefined): void {
    const group = ew.metadata.labels?.[GROUP_LABEL];
    const namespace = ew.metadata.namespace ?? 'default';
    if (!group) return;
    const now = new Date(this.opts.clock.now());
    // Through a promise so that nothing here can fail the removal itself.
    Promise.resolve()
      .then(() =>
        this.core.createNamespacedEvent({
          namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: `${group}.${randomBytes(8).toString('hex')}`, namespace },
            involvedObject: { apiVersion: `${WORKLOAD_GROUP}/${WORKLOAD_VERSION}`, kind: 'WorkloadGroup', name: group, namespace },
            reason: REMOVED_EVENT_REASON,
            message: `removed auto-registered ExternalWorkload ${ew.metadata.name} (${(ew.spec?.workloadIPs ?? []).map((w) => w.ip).join(', ') || 'no address'}): ${why ?? 'heartbeat lost'}`,
            type: 'Normal',
            source: { component: 'outpost-controllers' },
            reportingComponent: 'outpost-controllers',
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        }),
      )
      .catch((e: unknown) => this.opts.log.debug('could not record the removal Event', { error: e }));
  }

  /** False when the delete failed for a reason worth retrying. */
  private async remove(ew: ExternalWorkloadObject): Promise<boolean> {
    const { namespace = 'default', name = '', uid, resourceVersion } = ew.metadata;
    const key = `${namespace}/${name}`;
    const cond = ew.status?.conditions?.find((c) => c.type === 'Ready');
    try {
      await this.api.deleteNamespacedCustomObject({
        group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: 'externalworkloads', namespace, name,
        body: { preconditions: { uid, resourceVersion } },
      });
      this.opts.log.info('removed an auto-registered workload whose heartbeat was lost', { workload: key, since: cond?.lastTransitionTime, message: cond?.message });
      this.recordRemoval(ew, cond?.message);
      this.opts.onDelete?.(key);
      return true;
    } catch (e) {
      // Gone already, or changed since we looked (the VM came back): the next event decides again.
      if (e instanceof ApiException && (e.code === 404 || e.code === 409)) return true;
      this.opts.log.warn('could not remove an auto-registered workload; retrying in 5 s', { workload: key, error: e });
      return false;
    }
  }
}
