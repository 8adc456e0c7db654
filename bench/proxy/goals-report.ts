// The proxy's performance goals (docs/proxy.md "Performance"), read from one anchors run: each goal
// as the measured ratio (or difference) against the same-run anchor, the goal, and PASS/MISS.
// Run: node --import tsx bench/proxy/goals-report.ts RAW.jsonl   (bench/proxy/goals.sh does this)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One line of the anchors' raw JSONL (run.sh `run_load` and the idle sample). */
export interface AnchorRow {
  rep: number;
  setup: string;
  test: 'max' | 'c1' | 'fixed' | 'close' | 'idle';
  wall_s?: number;
  cpu_proxy_pct?: number;
  rss_client_kb?: number;
  rss_server_kb?: number;
  res?: { requests: number; rps: number; p50_us: number; p99_us: number } | null;
}

export interface GoalResult {
  goal: string;
  measured: string;
  target: string;
  pass: boolean | undefined;
}

const median = (xs: (number | undefined)[]): number | undefined => {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** Evaluates the goals for `http`/`tcp` (the Outpost setups) against the same-run anchors. */
export function evaluateGoals(rows: AnchorRow[], http = 'outpost-http', tcp = 'outpost-tcp'): GoalResult[] {
  const reps = [...new Set(rows.filter((r) => r.rep > 0).map((r) => r.rep))];
  const get = (setup: string, test: string, rep: number) => rows.find((r) => r.setup === setup && r.test === test && r.rep === rep && r.res);
  // Per repetition against the anchor of the same repetition, then the median (as the anchors' report.js does).
  const perRep = (f: (rep: number) => number | undefined) => median(reps.map(f));
  const ratio = (a: string, b: string, test: string, v: (r: AnchorRow) => number | undefined) =>
    perRep((rep) => {
      const x = get(a, test, rep), y = get(b, test, rep);
      const vx = x && v(x), vy = y && v(y);
      return vx !== undefined && vy ? vx / vy : undefined;
    });
  const added = (setup: string, test: string, v: (r: AnchorRow) => number, rep: number) => {
    const x = get(setup, test, rep), d = get('direct', test, rep);
    return x && d ? v(x) - v(d) : undefined;
  };
  const addedOver = (v: (r: AnchorRow) => number) =>
    perRep((rep) => {
      const a = added(http, 'fixed', v, rep), h = added('haproxy-http', 'fixed', v, rep);
      return a !== undefined && h !== undefined ? a - h : undefined;
    });
  const addedMed = (setup: string, v: (r: AnchorRow) => number) => perRep((rep) => added(setup, 'fixed', v, rep));
  const rps = (r: AnchorRow) => r.res?.rps;
  const cpuPerReq = (r: AnchorRow) => (r.res?.requests && r.cpu_proxy_pct !== undefined && r.wall_s ? ((r.cpu_proxy_pct / 100) * r.wall_s * 1e6) / r.res.requests : undefined);
  const p50 = (r: AnchorRow) => r.res!.p50_us;
  const p99 = (r: AnchorRow) => r.res!.p99_us;

  const out: GoalResult[] = [];
  const atLeast = (goal: string, v: number | undefined, min: number, unit = '×') =>
    out.push({ goal, measured: v === undefined ? 'not measured' : `${v.toFixed(2)}${unit}`, target: `≥ ${min}${unit}`, pass: v === undefined ? undefined : v >= min });
  const atMost = (goal: string, v: number | undefined, max: number, fmt: (x: number) => string) =>
    out.push({ goal, measured: v === undefined ? 'not measured' : fmt(v), target: `≤ ${fmt(max)}`, pass: v === undefined ? undefined : v <= max });
  const us = (x: number) => `${x >= 0 ? '+' : ''}${Math.round(x)} µs`;
  const mb = (x: number) => `${x.toFixed(1)} MB`;

  atLeast(`HTTP keep-alive req/s, ${http} / haproxy-http`, ratio(http, 'haproxy-http', 'max', rps), 0.6);
  atLeast(`HTTP conn-close req/s, ${http} / haproxy-http`, ratio(http, 'haproxy-http', 'close', rps), 0.5);
  const ap50 = addedMed(http, p50), hp50 = addedMed('haproxy-http', p50);
  const ap99 = addedMed(http, p99), hp99 = addedMed('haproxy-http', p99);
  atMost(`added p50 at 1,000 req/s over haproxy-http's (${http} ${ap50 === undefined ? '?' : us(ap50)}, haproxy ${hp50 === undefined ? '?' : us(hp50)})`, addedOver(p50), 300, us);
  atMost(`added p99 at 1,000 req/s over haproxy-http's (${http} ${ap99 === undefined ? '?' : us(ap99)}, haproxy ${hp99 === undefined ? '?' : us(hp99)})`, addedOver(p99), 1000, us);
  const cpuA = median(reps.map((rep) => { const r = get(http, 'max', rep); return r && cpuPerReq(r); }));
  const cpuH = median(reps.map((rep) => { const r = get('haproxy-http', 'max', rep); return r && cpuPerReq(r); }));
  out.push({
    goal: `CPU per HTTP request, both proxies, ${http} / haproxy-http (${cpuA === undefined ? '?' : cpuA.toFixed(1)} / ${cpuH === undefined ? '?' : cpuH.toFixed(1)} µs)`,
    ...(() => { const v = ratio(http, 'haproxy-http', 'max', cpuPerReq); return { measured: v === undefined ? 'not measured' : `${v.toFixed(2)}×`, target: '≤ 2×', pass: v === undefined ? undefined : v <= 2 }; })(),
  });
  atLeast(`opaque TCP req/s, ${tcp} / haproxy-tcp`, ratio(tcp, 'haproxy-tcp', 'max', rps), 0.8);
  for (const setup of [http, tcp]) {
    const loaded = rows.filter((r) => r.setup === setup && r.rep > 0 && r.test !== 'idle');
    const idle = rows.find((r) => r.setup === setup && r.test === 'idle');
    for (const side of ['client', 'server'] as const) {
      const key = side === 'client' ? 'rss_client_kb' : 'rss_server_kb';
      const peak = loaded.length ? Math.max(...loaded.map((r) => r[key] ?? 0)) / 1024 : undefined;
      atMost(`RSS under load, ${setup} ${side} proxy (peak)`, peak, 60, mb);
      atMost(`RSS idle, ${setup} ${side} proxy`, idle?.[key] !== undefined ? idle[key]! / 1024 : undefined, 40, mb);
    }
  }
  return out;
}

export function formatGoals(results: GoalResult[]): string {
  const lines = ['| goal | measured | target | result |', '|---|---:|---:|---|'];
  for (const r of results) lines.push(`| ${r.goal} | ${r.measured} | ${r.target} | ${r.pass === undefined ? 'NOT MEASURED' : r.pass ? 'PASS' : 'MISS'} |`);
  const met = results.filter((r) => r.pass).length;
  lines.push('', `${met} of ${results.length} goals met (ratios within this one run; see docs/proxy.md "Performance").`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: goals-report.ts RAW.jsonl (the raw-*.jsonl file an anchors run.sh run wrote)');
    process.exit(2);
  }
  const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AnchorRow);
  console.log(formatGoals(evaluateGoals(rows)));
}
