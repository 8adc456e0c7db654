// The viz connects only to addresses of the workload itself (issue 12 item 6, SSRF): a workload
// whose IPs are not loopback but that reports 127.0.0.1:<another server's port>, or one that
// reports an address outside its workloadIPs, is neither scraped nor tapped — no connection ever
// arrives at those listeners — while a workload on its own IP is scraped as before.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, outpost } from '../support/cli.js';
import { startFakeProxy, type FakeProxy } from './fake-proxy.js';
import { isOwnAddress, workloadInfo } from '../../src/viz/discovery.js';

const NS = 'ssrf';
let cp: TestControlPlane;
let honest: FakeProxy;
/** Servers the viz must never reach: one on 127.0.0.1 (a local service), one on 127.0.0.2. */
const victims: { server: net.Server; address: string; connections: number }[] = [];

async function victim(host: string) {
  const v = { server: net.createServer((s) => (v.connections++, s.destroy())), address: '', connections: 0 };
  await new Promise<void>((r) => v.server.listen(0, host, r));
  v.address = `${host}:${(v.server.address() as net.AddressInfo).port}`;
  victims.push(v);
  return v;
}

const ew = (name: string, ip: string, admin: string) => `---
apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata:
  name: ${name}
  namespace: ${NS}
  annotations: { viz.outpost.io/admin-address: "${admin}", viz.outpost.io/tap-address: "${admin}" }
spec:
  meshTLS: { identity: "spiffe://cluster.local/ns/${NS}/sa/${name}", serverName: ${name}.${NS}.svc.cluster.local }
  workloadIPs: [{ ip: ${ip} }]
  ports: [{ name: http, port: 8080 }]
`;

before(async () => {
  honest = await startFakeProxy();
  const local = await victim('127.0.0.1');
  const other = await victim('127.0.0.2');
  cp = await startTestControlPlane({ 'scrape-interval': 200 });
  const file = join(cp.dataDir, 'ssrf.yaml');
  writeFileSync(file, `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n${ew('honest', '127.0.0.1', honest.address)}${ew('points-at-loopback', '198.18.0.10', local.address)}${ew('points-elsewhere', '127.0.0.1', other.address)}`);
  const applied = await kubectl(cp.kubeconfigPath, ['apply', '-f', file]);
  assert.equal(applied.code, 0, applied.stderr);
});

after(async () => {
  await cp?.dispose();
  await honest?.close();
  for (const v of victims) v.server.close();
});

test('only the address on the workload own IP is scraped; the others receive no connection', async () => {
  let scraped = false;
  for (let i = 0; i < 60 && !scraped; i++) {
    const r = await outpost(['viz', 'stat', 'ew/honest', '-n', NS, '-o', 'json', '--data-dir', cp.dataDir]);
    scraped = r.code === 0 && (JSON.parse(r.stdout) as { meshed: string }[])[0]?.meshed === '1/1';
    if (!scraped) await new Promise((res) => setTimeout(res, 250));
  }
  assert.ok(scraped, 'the honest workload is scraped');
  await new Promise((res) => setTimeout(res, 1000)); // several more scrape rounds
  assert.deepEqual(
    victims.map((v) => `${v.address}: ${v.connections}`),
    victims.map((v) => `${v.address}: 0`),
  );
  const stat = await outpost(['viz', 'stat', 'ew', '-n', NS, '-o', 'json', '--data-dir', cp.dataDir]);
  const meshed = Object.fromEntries((JSON.parse(stat.stdout) as { name: string; meshed: string }[]).map((x) => [x.name, x.meshed]));
  assert.deepEqual(meshed, { honest: '1/1', 'points-at-loopback': '0/1', 'points-elsewhere': '0/1' });
});

test('tap refuses the reported address and says why; no connection arrives', async () => {
  const r = await outpost(['viz', 'tap', 'ew/points-at-loopback', '-n', NS, '--limit', '1', '--data-dir', cp.dataDir], { timeoutMs: 15_000 });
  assert.match(r.stdout + r.stderr, /is not on one of the workload's IPs \(198\.18\.0\.10\)/);
  assert.equal(victims[0].connections, 0);
});

test('isOwnAddress: exact workload IPs only (IPv6 and IPv4-mapped too), never a hostname', () => {
  const cases: [string, string[], boolean][] = [
    ['127.0.0.1:4191', ['127.0.0.1'], true],
    ['127.0.0.1:6443', ['192.0.2.7'], false],
    ['127.0.0.2:4191', ['127.0.0.1'], false],
    ['192.0.2.7:4191', ['192.0.2.8', '192.0.2.7'], true],
    ['[2001:db8::7]:4191', ['2001:db8::7'], true],
    ['[::ffff:192.0.2.7]:4191', ['192.0.2.7'], true],
    ['localhost:4191', ['127.0.0.1'], false],
    ['192.0.2.7', ['192.0.2.7'], false],
    ['192.0.2.7:4191', [], false],
  ];
  for (const [address, ips, want] of cases) assert.equal(isOwnAddress(address, ips), want, `${address} on ${ips}`);
  const w = workloadInfo({ metadata: { name: 'x', namespace: 'n' }, spec: { workloadIPs: [{ ip: '192.0.2.7' }] }, status: { proxy: { adminAddress: '127.0.0.1:6443', tapAddress: '192.0.2.7:4190' } } });
  assert.equal(w.adminAddress, undefined);
  assert.equal(w.tapAddress, '192.0.2.7:4190');
  assert.match(w.refused?.[0] ?? '', /admin address 127\.0\.0\.1:6443 is not on one of the workload's IPs \(192\.0\.2\.7\)/);
});
