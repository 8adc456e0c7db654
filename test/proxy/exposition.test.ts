// The proxy's /metrics passes `promtool check metrics` (Prometheus' own linter, Debian package
// `prometheus`) on a live proxy that served HTTP, gRPC-less opaque TCP and a refused request: HELP and
// TYPE for every family, unit-suffixed names. The only complaints left are Linkerd's two `_ms` names,
// kept for compatibility with Linkerd's dashboards and queries (docs/viz.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { meshWithServer, upstreamTo, type MeshWithServer } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

/** promtool's complaints about Linkerd metric names that Outpost keeps on purpose. */
const KEPT_LINKERD_NAMES = ['response_latency_ms metric names should not contain abbreviated units', 'tcp_connection_duration_ms metric names should not contain abbreviated units'];

let setup: MeshWithServer;
let client: RunningProxy;
let server: RunningProxy;

before(async () => {
  setup = await meshWithServer();
  ({ server } = setup);
  const { peer } = setup;
  client = await setup.startClient('a', {
    upstreams: [upstreamTo('web.apps:80', peer), upstreamTo('tcp.apps:80', peer, 'opaque'), upstreamTo('self.apps:80', [{ ...peer[0], appPort: server.ports.admin }])],
  });
  // Traffic of every kind, so that histograms, errno-labelled closes and refusals have samples.
  assert.equal(await fetch(`http://127.0.0.1:${client.ports.upstreams['web.apps:80']}/`).then((r) => r.text()), 'ok');
  assert.equal(await fetch(`http://127.0.0.1:${client.ports.upstreams['tcp.apps:80']}/`).then((r) => r.text()), 'ok');
  assert.equal((await fetch(`http://127.0.0.1:${client.ports.upstreams['self.apps:80']}/metrics`)).status, 403);
  await new Promise<void>((resolve) => connect(client.ports.outbound, '127.0.0.1').on('connect', function (this: ReturnType<typeof connect>) { this.end('\x00\x01garbage'); }).on('close', () => resolve()));
});

after(async () => {
  await setup?.close();
});

function promtool(text: string): { status: number | null; complaints: string[] } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool (Debian package prometheus) could not run: ${r.error.message}`);
  return { status: r.status, complaints: (r.stdout + r.stderr).split('\n').map((l) => l.trim()).filter(Boolean) };
}

for (const side of ['client', 'server'] as const) {
  test(`promtool check metrics finds nothing but Linkerd's kept names on the ${side} proxy's /metrics`, async () => {
    const p = side === 'client' ? client : server;
    const text = await fetch(`http://127.0.0.1:${p.ports.admin}/metrics`).then((r) => r.text());
    assert.match(text, /^response_latency_ms_bucket\{/m, 'the exposition carries traffic');
    assert.match(text, /^tcp_connection_duration_ms_bucket\{/m);
    const { complaints } = promtool(text);
    assert.deepEqual(complaints.filter((c) => !KEPT_LINKERD_NAMES.includes(c)), [], 'every other metric has HELP, TYPE and a unit-suffixed name');
    for (const family of new Set(text.match(/^[a-z_]+(?=[{ ])/gm))) {
      const base = family.replace(/_(bucket|sum|count)$/, '');
      assert.ok(text.includes(`# HELP ${base} `) || text.includes(`# HELP ${family} `), `${family} has HELP`);
    }
  });
}
