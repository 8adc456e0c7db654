// WorkloadGroups: counts members and ready members into the group's status, and shows each member's
// effective labels (template + own) in its `outpost.io/effective-labels` annotation, since
// `kubectl get --show-labels` can only print a workload's own labels.
import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ApiClients } from '../../core/kube-clients.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { effectiveWorkload, groupNameOf } from '../../core/workloads/effective.js';
import { workloadIsReady } from '../health/conditions.js';
import { EFFECTIVE_LABELS_ANNOTATION, WORKLOAD_GROUP, WORKLOAD_VERSION, formatLabels } from '../labels.js';
import { WorkQueue } from '../runtime/workqueue.js';
import type { WorkloadIndex } from '../endpoints/index.js';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface GroupStatus {
  members: number;
  readyMembers: number;
  observedGeneration?: number;
}

/** The status a group should have, from the index. Pure. */
export function desiredGroupStatus(index: WorkloadIndex, groupKey: string): GroupStatus | undefined {
  const group = index.groups.get(groupKey) as { metadata: { generation?: number } } | undefined;
  if (!group) return undefined;
  const members = index.membersOf(groupKey).map((k) => index.workloads.get(k)!).filter(Boolean);
  return { members: members.length, readyMembers: members.filter((m) => workloadIsReady(m)).length, observedGeneration: group.metadata.generation };
}

/** The effective-labels annotation a workload should carry: set for group members, absent otherwise. */
export function desiredEffectiveLabels(index: WorkloadIndex, workloadKey: string): string | undefined {
  const ew = index.workloads.get(workloadKey);
  if (!ew || !groupNameOf(ew)) return undefined;
  const group = index.groupOf(ew);
  if (!group) return undefined;
  return formatLabels(effectiveWorkload(ew, group).labels);
}

export class WorkloadGroupController {
  readonly groupQueue: WorkQueue;
  readonly labelQueue: WorkQueue;
  private leading = false;
  private readonly api: CustomObjectsApi;

  constructor(private readonly opts: { api: ApiClients; index: WorkloadIndex; clock: Clock; log: Logger }) {
    this.api = opts.api.make(CustomObjectsApi);
    this.groupQueue = new WorkQueue({ clock: opts.clock, log: opts.log, concurrency: 4, worker: (k) => this.syncGroup(k) });
    this.labelQueue = new WorkQueue({ clock: opts.clock, log: opts.log, concurrency: 8, worker: (k) => this.syncLabels(k) });
  }

  setLeading(leading: boolean): void {
    this.leading = leading;
    if (!leading) return;
    for (const k of this.opts.index.groups.keys()) this.groupQueue.add(k);
    for (const k of this.opts.index.workloads.keys()) this.labelQueue.add(k);
  }

  groupsChanged(keys: string[]): void {
    if (!this.leading) return;
    for (const k of keys) {
      this.groupQueue.add(k);
      for (const m of this.opts.index.membersOf(k)) this.labelQueue.add(m);
    }
  }

  /** A workload changed: its labels annotation, and the counts of the groups it is (or was) in. */
  workloadChanged(key: string, groups: string[]): void {
    if (!this.leading) return;
    this.labelQueue.add(key);
    for (const g of groups) this.groupQueue.add(g);
  }

  stop(): void {
    this.leading = false;
    this.groupQueue.stop();
    this.labelQueue.stop();
  }

  private async syncGroup(key: string): Promise<void> {
    if (!this.leading) return;
    const desired = desiredGroupStatus(this.opts.index, key);
    if (!desired) return;
    const current = (this.opts.index.groups.get(key) as { status?: GroupStatus }).status ?? ({} as Partial<GroupStatus>);
    if (current.members === desired.members && current.readyMembers === desired.readyMembers && current.observedGeneration === desired.observedGeneration) return;
    const [namespace, name] = key.split('/');
    try {
      await this.api.patchNamespacedCustomObjectStatus({ group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: 'workloadgroups', namespace, name, body: { status: desired } }, MERGE_PATCH);
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 404)) throw e;
    }
  }

  private async syncLabels(key: string): Promise<void> {
    if (!this.leading) return;
    const ew = this.opts.index.workloads.get(key);
    if (!ew) return;
    const desired = desiredEffectiveLabels(this.opts.index, key);
    const current = ew.metadata.annotations?.[EFFECTIVE_LABELS_ANNOTATION];
    if (current === desired) return;
    const [namespace, name] = key.split('/');
    try {
      await this.api.patchNamespacedCustomObject(
        { group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: 'externalworkloads', namespace, name, body: { metadata: { annotations: { [EFFECTIVE_LABELS_ANNOTATION]: desired ?? null } } } },
        MERGE_PATCH,
      );
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 404)) throw e;
    }
  }
}
