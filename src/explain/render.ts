// The text screen of `outpost explain`: a header, one block per section ending in a ✓/‼/× verdict
// line and the commands that fix it, and a closing summary line. Pure.
import type { Explanation, Verdict } from './facts.js';

export const MARK: Record<Verdict, string> = { ok: '✓', warn: '‼', fail: '×' };

export function renderExplanation(e: Explanation): string[] {
  const w = e.workload;
  const ports = w.ports.map((p) => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol ?? 'TCP'}`).join(', ');
  const lines = [
    `externalworkload/${w.name} -n ${w.namespace}${w.group ? ` (workloadgroup/${w.group})` : ''}`,
    `  identity     ${w.identity}`,
    `  serverName   ${w.serverName}`,
    `  addresses    ${w.addresses.join(', ') || '(none)'}`,
    `  ports        ${ports || '(none)'}`,
    '',
  ];
  for (const s of e.sections) {
    lines.push(s.title, '-'.repeat(s.title.length));
    lines.push(...s.details.map((d) => `  ${d}`));
    lines.push(`${MARK[s.verdict]} ${s.summary}`);
    // A failure's commands fix it; a warning's are what to look at (like `outpost check`'s hints).
    for (const f of s.fixes) lines.push(`    ${s.verdict === 'fail' ? 'fix' : 'hint'}: ${f}`);
    lines.push('');
  }
  lines.push(`${e.reachable ? MARK.ok : MARK.fail} ${e.summary}`);
  return lines;
}

/** `-o json`: the same facts and verdicts. */
export function explanationJson(e: Explanation): string {
  return JSON.stringify(e, null, 2);
}
