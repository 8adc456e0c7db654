// Linkerd-style check output: groups of checks, each ✓ (ok), ‼ (warning) or × (failure) with a
// hint for every problem, and a closing verdict. Pure: runs checks and renders lines.
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckOutcome {
  status: CheckStatus;
  /** Extra detail after the description, e.g. "expires in 12 days". */
  detail?: string;
  /** What to do about a warning or failure. */
  hint?: string;
}

export interface Check {
  description: string;
  run(): Promise<CheckOutcome>;
  /** Checks after a failed fatal one are skipped (e.g. nothing works without the API). */
  fatal?: boolean;
}

export interface CheckGroup {
  name: string;
  checks: Check[];
}

export const ok = (detail?: string): CheckOutcome => ({ status: 'ok', detail });
export const warn = (detail: string, hint: string): CheckOutcome => ({ status: 'warn', detail, hint });
export const fail = (detail: string, hint: string): CheckOutcome => ({ status: 'fail', detail, hint });

const MARK: Record<CheckStatus, string> = { ok: '√', warn: '‼', fail: '×' };

export interface CheckSummary {
  lines: string[];
  failures: number;
  warnings: number;
  results: { group: string; description: string; outcome: CheckOutcome }[];
}

/** Runs the groups in order; prints as it goes through `emit`. */
export async function runChecks(groups: CheckGroup[], emit: (line: string) => void = () => {}): Promise<CheckSummary> {
  const lines: string[] = [];
  const out = (l: string) => {
    lines.push(l);
    emit(l);
  };
  const results: CheckSummary['results'] = [];
  let failures = 0;
  let warnings = 0;
  let stopped = false;
  for (const g of groups) {
    if (stopped) break;
    out(g.name);
    out('-'.repeat(g.name.length));
    for (const c of g.checks) {
      let outcome: CheckOutcome;
      try {
        outcome = await c.run();
      } catch (e) {
        outcome = fail((e as Error).message, 'this check could not run; see the message');
      }
      results.push({ group: g.name, description: c.description, outcome });
      out(`${MARK[outcome.status]} ${c.description}${outcome.detail ? ` (${outcome.detail})` : ''}`);
      if (outcome.hint && outcome.status !== 'ok') out(`    hint: ${outcome.hint}`);
      if (outcome.status === 'fail') failures++;
      if (outcome.status === 'warn') warnings++;
      if (outcome.status === 'fail' && c.fatal) {
        stopped = true;
        break;
      }
    }
    out('');
  }
  out(failures === 0 ? `Status check results are √${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}` : `Status check results are × (${failures} failed)`);
  return { lines, failures, warnings, results };
}
