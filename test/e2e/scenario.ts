// Shared pieces of the multi-host scenario suites (onboarding, captured apps, the bare VM, VMs on a
// real cluster): `outpost` from source on every host, the tool check that decides whether the
// machine can run them, ordered steps, and polling that fails with the hosts' logs.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT } from '../support/paths.js';
import { canUseNetns } from '../support/netns.js';
import { waitFor } from '../support/wait.js';

/** What `outpost` is on every host: this checkout, run from source. */
export const OUTPOST = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts')];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The reason a scenario cannot run on this machine (not root, no netns, a missing tool), or false. */
export function scenarioSkip(tools: string[], hint?: string): string | false {
  if (!canUseNetns()) return 'needs root and network namespaces (ip netns)';
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  return missing.length ? `needs ${hint ?? missing.join(', ')} (scripts/test.sh installs them)` : false;
}

/** Steps that each need the previous ones: after a failure the rest are skipped, not failed again. */
export function orderedSteps(): { step: (name: string, fn: () => Promise<void>) => void; broken: () => string | undefined } {
  let broken: string | undefined;
  return {
    broken: () => broken,
    step: (name, fn) =>
      it(name, async (t) => {
        if (broken) return t.skip(`an earlier step failed: ${broken}`);
        try {
          await fn();
        } catch (e) {
          broken = name;
          throw e;
        }
      }),
  };
}

/** Polls `fn` (test/support/wait.ts) for a scenario: on timeout the failure carries the hosts' logs. */
export function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, logs: () => string, intervalMs = 250): Promise<T> {
  return waitFor(what, fn, { timeoutMs, intervalMs, context: logs });
}
