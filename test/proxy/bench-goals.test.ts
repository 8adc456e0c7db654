// The benchmark helpers: the performance goals report (bench/proxy/goals-report.ts: ratios against the
// same-repetition anchors, medians over repetitions, PASS/MISS) and the profile report (categories of samples).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGoals, formatGoals, type AnchorRow } from '../../bench/proxy/goals-report.js';
import { categoryOf, leafSymbols, report } from '../../bench/proxy/profile-report.js';

type Cell = { rps: number; p50?: number; p99?: number; cpu?: number; rss?: [number, number] };
function rows(rep: number, cells: Record<string, Partial<Record<'max' | 'close' | 'fixed', Cell>>>): AnchorRow[] {
  const out: AnchorRow[] = [];
  for (const [setup, tests] of Object.entries(cells)) {
    for (const [t, c] of Object.entries(tests)) {
      out.push({
        rep, setup, test: t as AnchorRow['test'], wall_s: 10, cpu_proxy_pct: c.cpu ?? 0, rss_client_kb: (c.rss?.[0] ?? 0) * 1024, rss_server_kb: (c.rss?.[1] ?? 0) * 1024,
        res: { requests: c.rps * 10, rps: c.rps, p50_us: c.p50 ?? 0, p99_us: c.p99 ?? 0 },
      });
    }
  }
  return out;
}

const goal = (r: ReturnType<typeof evaluateGoals>, prefix: string) => {
  const g = r.find((x) => x.goal.startsWith(prefix));
  assert.ok(g, `no goal "${prefix}"`);
  return g;
};

test('goals are per-repetition ratios to the same-run anchors, median over repetitions', () => {
  const data: AnchorRow[] = [
    // rep 1: outpost at 0.7 of haproxy; rep 2: 0.5; rep 3: 0.65 -> median 0.65 (PASS at 0.6)
    ...rows(1, { direct: { max: { rps: 1000 }, fixed: { rps: 1000, p50: 100, p99: 200 } }, 'haproxy-http': { max: { rps: 400, cpu: 100 }, close: { rps: 200 }, fixed: { rps: 1000, p50: 600, p99: 1200 } }, 'outpost-http': { max: { rps: 280, cpu: 100, rss: [50, 45] }, close: { rps: 90 }, fixed: { rps: 1000, p50: 1000, p99: 2000 } } }),
    ...rows(2, { direct: { max: { rps: 2000 }, fixed: { rps: 1000, p50: 100, p99: 200 } }, 'haproxy-http': { max: { rps: 800, cpu: 100 }, close: { rps: 200 }, fixed: { rps: 1000, p50: 600, p99: 1200 } }, 'outpost-http': { max: { rps: 400, cpu: 100, rss: [70, 45] }, close: { rps: 110 }, fixed: { rps: 1000, p50: 800, p99: 2000 } } }),
    ...rows(3, { direct: { max: { rps: 1000 }, fixed: { rps: 1000, p50: 100, p99: 200 } }, 'haproxy-http': { max: { rps: 400, cpu: 100 }, close: { rps: 200 }, fixed: { rps: 1000, p50: 600, p99: 1200 } }, 'outpost-http': { max: { rps: 260, cpu: 100, rss: [50, 45] }, close: { rps: 100 }, fixed: { rps: 1000, p50: 900, p99: 2000 } } }),
    { rep: 0, setup: 'outpost-http', test: 'idle', rss_client_kb: 39 * 1024, rss_server_kb: 41 * 1024 },
  ];
  const r = evaluateGoals(data);
  assert.equal(goal(r, 'HTTP keep-alive').measured, '0.65×');
  assert.equal(goal(r, 'HTTP keep-alive').pass, true);
  // conn-close: 0.45, 0.55, 0.5 -> 0.5, exactly at the goal line
  assert.equal(goal(r, 'HTTP conn-close').measured, '0.50×');
  assert.equal(goal(r, 'HTTP conn-close').pass, true);
  // added p50 over haproxy's: (900-500)=400, (700-500)=200, (800-500)=300 -> 300 µs: at the line
  assert.equal(goal(r, 'added p50').measured, '+300 µs');
  assert.equal(goal(r, 'added p50').pass, true);
  // added p99: 1800 - 1000 = 800 over haproxy's
  assert.equal(goal(r, 'added p99').measured, '+800 µs');
  // CPU per request: 10 s at 100 % for 2800 / 4000 / 2600 requests vs 4000 / 8000 / 4000 -> 1.43, 2, 1.54 -> 1.54
  assert.equal(goal(r, 'CPU per HTTP request').measured, '1.54×');
  assert.equal(goal(r, 'CPU per HTTP request').pass, true);
  // RSS under load is the peak over all runs (70 MB in rep 2), not the median
  assert.equal(goal(r, 'RSS under load, outpost-http client').measured, '70.0 MB');
  assert.equal(goal(r, 'RSS under load, outpost-http client').pass, false);
  assert.equal(goal(r, 'RSS idle, outpost-http client').pass, true);
  assert.equal(goal(r, 'RSS idle, outpost-http server').pass, false);
  // No outpost-tcp / haproxy-tcp rows: reported as not measured, never as a pass
  assert.equal(goal(r, 'opaque TCP').pass, undefined);
  const text = formatGoals(r);
  assert.match(text, /\| HTTP keep-alive req\/s, outpost-http \/ haproxy-http \| 0\.65× \| ≥ 0\.6× \| PASS \|/);
  assert.match(text, /opaque TCP.*NOT MEASURED/);
  assert.match(text, /RSS under load, outpost-http client proxy \(peak\) \| 70\.0 MB \| ≤ 60\.0 MB \| MISS/);
});

test('the profile report puts each sample in one category by its leaf frame', () => {
  const stacks = [
    '\tffffffff8a1 tcp_sendmsg_locked+0x2a ([kernel.kallsyms])\n\t7f01 writev (/usr/lib/libc.so.6)\n',
    '\t55aa ssl3_get_record+0x10 (/usr/bin/node)\n\t55ab node::crypto::TLSWrap::ClearOut (/usr/bin/node)\n',
    '\t7f22 JS:*forward file:///x/outpost/dist/proxy/http1/relay.js:321:21 (/tmp/perf-1.map)\n',
    '\t7f23 JS:*onStreamRead node:internal/stream_base_commons:168:22 (/tmp/perf-1.map)\n',
    '\t55ac v8::internal::Scavenger::ScavengeObject (/usr/bin/node)\n',
  ].join('\n');
  const leaves = leafSymbols(stacks);
  assert.deepEqual(leaves.map(categoryOf), ['kernel (TCP, syscalls, scheduler)', 'OpenSSL (TLS records)', 'JavaScript: Outpost', 'JavaScript: Node core (streams, net, timers)', 'V8 garbage collection']);
  const text = report('client', leaves);
  assert.match(text, /\| kernel \(TCP, syscalls, scheduler\) \| 20\.0 % \|/);
  assert.match(text, /JavaScript by file: proxy\/http1\/relay\.js 20\.0 %/);
});

test('samples on V8 background GC threads count as garbage collection whatever their leaf', () => {
  const leaves = leafSymbols('\t55 v8::internal::HeapObject::SizeFromMap (/usr/bin/node)\n\t56 node::(anonymous namespace)::PlatformWorkerThread (/usr/bin/node)\n\n\t57 v8::internal::HeapObject::SizeFromMap (/usr/bin/node)\n');
  assert.deepEqual(leaves.map(categoryOf), ['V8 garbage collection', 'V8 runtime (ICs, calls into JS, strings)']);
});
