// The probe threshold state machine, as the kubelet's: a verdict flips only after `failureThreshold`
// consecutive failures or `successThreshold` consecutive successes; a workload starts not ready. Pure.

export interface ThresholdState {
  ready: boolean;
  /** Result of the last check, undefined before the first. */
  lastSuccess?: boolean;
  /** How many consecutive checks returned lastSuccess. */
  run: number;
}

export interface Thresholds {
  failureThreshold: number;
  successThreshold: number;
}

export const INITIAL_THRESHOLD_STATE: ThresholdState = { ready: false, run: 0 };

export function applyCheckResult(state: ThresholdState, success: boolean, t: Thresholds): ThresholdState {
  const run = state.lastSuccess === success ? state.run + 1 : 1;
  let ready = state.ready;
  if (success && run >= t.successThreshold) ready = true;
  if (!success && run >= t.failureThreshold) ready = false;
  return { ready, lastSuccess: success, run };
}
