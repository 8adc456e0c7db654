// When an auto-registered ExternalWorkload is removed (docs/adr/0010), as a pure function: only a
// workload the identity service registered, whose Ready condition has been False with reason
// HeartbeatLost for longer than its group's remove-after (default: the controllers' flag).
import { parseDuration } from '../../core/flags.js';
import { REVOKED_AT_ANNOTATION } from '../../core/workloads/revocation.js';
import { REASON } from '../labels.js';
import type { WorkloadCondition } from '../../kube/objects.js';

/** Set "true" by the identity service on the workloads it registered (src/identity/autoregister.ts). */
export const AUTO_REGISTERED_ANNOTATION = 'outpost.io/auto-registered';
/** On a WorkloadGroup: how long an auto-registered member may have lost its heartbeat before it is deleted (e.g. "30m"). */
export const REMOVE_AFTER_ANNOTATION = 'outpost.io/remove-after';
/** Default of --auto-registered-remove-after: one hour. */
export const DEFAULT_REMOVE_AFTER_MS = 3_600_000;

type Annotated = { metadata: { annotations?: Record<string, string> } };

export interface RemovalCandidate {
  metadata: { annotations?: Record<string, string>; deletionTimestamp?: Date | string };
  status?: { conditions?: WorkloadCondition[] };
}

/** The group's `outpost.io/remove-after` if valid and positive, else the default (the flag). */
export function removeAfterFor(group: Annotated | undefined, defaultMs: number): number {
  const override = group?.metadata.annotations?.[REMOVE_AFTER_ANNOTATION];
  const parsed = override ? parseDuration(override) : undefined;
  return parsed !== undefined && parsed > 0 ? parsed : defaultMs;
}

/**
 * Since when the workload's heartbeat has been lost, or undefined if it has not (or the workload is
 * not ours to remove). The condition keeps lastTransitionTime while it stays False (ProbesFailing →
 * HeartbeatLost), so the later of that and "last report + grace" is when the heartbeat was lost.
 */
export function heartbeatLostSince(ew: RemovalCandidate, graceMs: number): number | undefined {
  const annotations = ew.metadata.annotations ?? {};
  // A revoked workload is kept: its record is what refuses its certificate a re-registration.
  if (annotations[AUTO_REGISTERED_ANNOTATION] !== 'true' || annotations[REVOKED_AT_ANNOTATION] || ew.metadata.deletionTimestamp) return undefined;
  const ready = ew.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready || ready.status !== 'False' || ready.reason !== REASON.heartbeatLost) return undefined;
  const transition = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  const lastReport = ready.lastProbeTime ? Date.parse(ready.lastProbeTime) : NaN;
  const candidates = [transition, Number.isNaN(lastReport) ? NaN : lastReport + graceMs].filter((t) => !Number.isNaN(t));
  return candidates.length ? Math.max(...candidates) : undefined;
}

/** When the workload is due for removal (ms since epoch), or undefined when it is not to be removed. */
export function removalDueAt(ew: RemovalCandidate, opts: { graceMs: number; removeAfterMs: number }): number | undefined {
  const since = heartbeatLostSince(ew, opts.graceMs);
  return since === undefined ? undefined : since + opts.removeAfterMs;
}
