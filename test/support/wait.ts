// Polling for tests: waits until a probe yields a value, and on timeout fails with what was awaited,
// how long, and the probe's last value or error (plus any context a suite adds, e.g. its logs).
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** How long to wait in all (default 5 s). */
  timeoutMs?: number;
  /** The pause between two probes (default 25 ms). */
  intervalMs?: number;
  /** Text appended to the timeout message: the logs of the processes under test, say. */
  context?: () => string;
  /** Checked before each probe: a reason returned stops the wait at once (a process that exited). */
  abortIf?: () => string | undefined | false;
}

/** What a probe returns while the awaited thing is not there yet. */
type NotYet = undefined | null | false;

/**
 * Polls `probe` until it returns something other than undefined, null or false, and returns that.
 * A probe that throws is retried; its error is the "last" one reported on timeout.
 */
export async function waitFor<T>(what: string, probe: () => T | NotYet | Promise<T | NotYet>, options: WaitOptions | number = {}): Promise<T> {
  const opts = typeof options === 'number' ? { timeoutMs: options } : options;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } | undefined;
  for (;;) {
    const aborted = opts.abortIf?.();
    if (aborted) throw new Error(`gave up waiting for ${what}: ${aborted}${describeLast(last)}${contextOf(opts)}`);
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v as T;
      last = { value: v };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describeLast(last)}${contextOf(opts)}`);
    await sleep(opts.intervalMs ?? 25);
  }
}

function describeLast(last: { value: unknown } | { error: unknown } | undefined): string {
  if (!last) return '';
  if ('error' in last) return ` (last error: ${last.error instanceof Error ? last.error.message : String(last.error)})`;
  return ` (last value: ${last.value === undefined ? 'undefined' : JSON.stringify(last.value)?.slice(0, 500)})`;
}

function contextOf(opts: WaitOptions): string {
  const text = opts.context?.();
  return text ? `\n${text}` : '';
}
