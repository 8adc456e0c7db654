// The Ready condition of an ExternalWorkload, as pure functions: what a proxy's report, a lost
// heartbeat or the absence of any proxy means, and whether the condition actually changes.
import type { WorkloadCondition } from '../../kube/objects.js';
import { ASSUME_READY_ANNOTATION, REASON } from '../labels.js';

export interface ProbeOutcome {
  name: string;
  success: boolean;
  message?: string;
}

/** The parts of an ExternalWorkload this module reads. */
export interface WorkloadWithStatus {
  metadata: { annotations?: Record<string, string>; deletionTimestamp?: Date | string; resourceVersion?: string };
  status?: { conditions?: WorkloadCondition[] };
}

const MAX_MESSAGE = 1024;

export function readyConditionOf(ew: WorkloadWithStatus): WorkloadCondition | undefined {
  return ew.status?.conditions?.find((c) => c.type === 'Ready');
}

/** No proxy has ever reported for this workload (no condition, or one we wrote for that case). */
export function neverReported(cond: WorkloadCondition | undefined): boolean {
  return !cond || cond.reason === REASON.awaitingProxy || cond.reason === REASON.assumedReady;
}

export function assumesReady(ew: WorkloadWithStatus): boolean {
  return ew.metadata.annotations?.[ASSUME_READY_ANNOTATION] === 'true';
}

/**
 * Whether endpoints of this workload are ready: the proxy's last verdict once one has reported;
 * before that, only if annotated assume-ready. Read from the object itself so the slices do not
 * wait for the status writer.
 */
export function workloadIsReady(ew: WorkloadWithStatus): boolean {
  const cond = readyConditionOf(ew);
  if (neverReported(cond)) return assumesReady(ew);
  return cond!.status === 'True';
}

/** The condition of a workload no proxy has reported for yet. */
export function awaitingProxyCondition(ew: WorkloadWithStatus, now: number): WorkloadCondition {
  return assumesReady(ew)
    ? { type: 'Ready', status: 'True', reason: REASON.assumedReady, message: `annotated ${ASSUME_READY_ANNOTATION}=true; no proxy has reported`, lastProbeTime: null, lastTransitionTime: iso(now) }
    : {
        type: 'Ready',
        status: 'False',
        reason: REASON.awaitingProxy,
        message: `no proxy has reported for this workload yet (for an endpoint that runs no proxy: kubectl annotate externalworkload <name> ${ASSUME_READY_ANNOTATION}=true)`,
        lastProbeTime: null,
        lastTransitionTime: iso(now),
      };
}

/** The condition after a proxy's report: its verdict, with the failing probes as the message. */
export function reportCondition(report: { ready: boolean; probes: ProbeOutcome[] }, now: number): WorkloadCondition {
  if (report.ready) {
    const n = report.probes.length;
    return { type: 'Ready', status: 'True', reason: REASON.probesPassing, message: n ? `${n} probe${n === 1 ? '' : 's'} passing` : 'proxy reports ready (no probes configured)', lastProbeTime: iso(now), lastTransitionTime: iso(now) };
  }
  const failing = report.probes.filter((p) => !p.success);
  const message = failing.length ? failing.map((p) => (p.message ? `${p.name}: ${p.message}` : `${p.name} failing`)).join('; ') : 'proxy reports not ready';
  return { type: 'Ready', status: 'False', reason: REASON.probesFailing, message: message.slice(0, MAX_MESSAGE), lastProbeTime: iso(now), lastTransitionTime: iso(now) };
}

export function heartbeatLostCondition(graceMs: number, lastReportAt: number | undefined, now: number): WorkloadCondition {
  const since = lastReportAt === undefined ? 'since the control plane started' : `since ${iso(lastReportAt)}`;
  return { type: 'Ready', status: 'False', reason: REASON.heartbeatLost, message: `no report from the workload's proxy for ${Math.round(graceMs / 1000)}s (${since})`, lastProbeTime: lastReportAt === undefined ? null : iso(lastReportAt), lastTransitionTime: iso(now) };
}

/**
 * The workload's conditions with `desired` applied, or undefined when nothing a user would see
 * changes (same status, reason and message): the caller then writes nothing. lastTransitionTime
 * moves only when the status flips.
 */
export function applyCondition(existing: WorkloadCondition[] | undefined, desired: WorkloadCondition): WorkloadCondition[] | undefined {
  const list = existing ?? [];
  const current = list.find((c) => c.type === desired.type);
  if (current && current.status === desired.status && current.reason === desired.reason && (current.message ?? '') === (desired.message ?? '')) return undefined;
  const next: WorkloadCondition = { ...desired };
  if (current && current.status === desired.status && current.lastTransitionTime) next.lastTransitionTime = current.lastTransitionTime;
  return [...list.filter((c) => c.type !== desired.type), next];
}

function iso(ms: number): string {
  // Kubernetes Time is RFC 3339 with second precision.
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
