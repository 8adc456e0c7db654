// `outpost demo --duration 20`: the guide's hybrid app end to end — traffic through mTLS to
// postgres and redis succeeds, the policy refuses a client other than api-server, and nothing the
// demo started is left behind (processes, network namespaces, bridge). Free ports and its own
// subnet, so it never collides with a user's demo.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outpost, type RunResult } from '../support/cli.js';
import { canUseNetns } from '../../src/demo/network.js';
import type { RouteRow } from '../../src/viz/service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function processesMentioning(marker: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker)) pids.push(Number(d));
    } catch {}
  }
  return pids;
}

describe('outpost demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'outpost-demo-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('meshes the hybrid app: mTLS traffic to postgres and redis, policy refusals, full cleanup', { timeout: 150_000 }, async () => {
    const netns = canUseNetns();
    const r1 = 20 + Math.floor(Math.random() * 200);
    const args = ['demo', '--duration', '25s', '--interval', '5s', '--data-dir', dataDir, '--free-ports'];
    if (netns) args.push('--subnet', `198.19.${r1}.0/24`);
    else args.push('--no-netns', '--subnet', `127.${r1}.${Math.floor(Math.random() * 250) + 1}.0/24`, '--port-offset', String(20000 + Math.floor(Math.random() * 20000)));
    // While the traffic runs, a user's `outpost viz routes svc/api-server` counts the web tier's order
    // lookups under the demo's HTTPRoute "orders" (the api-server's proxy labels them with route_name).
    let routes: RouteRow[] = [];
    const running = outpost(args, { timeoutMs: 140_000 });
    // The api-server app (the load) starts last, once every proxy is ready.
    for (let i = 0; i < 240 && !existsSync(join(dataDir, 'demo', 'api-server', 'app.log')); i++) await sleep(500);
    // postgres and redis speak their own protocols: `viz routes` says so instead of a success rate.
    // Both are asked while the demo still runs (its traffic stops after --duration).
    const pgNotice = "no HTTP traffic: this Service's traffic is opaque TCP; see outpost viz stat svc/postgres -n hybrid-app";
    let pgRoutes: RunResult = { code: -1, stdout: '', stderr: 'not asked' };
    const ordersSeen = () => (routes.find((x) => x.route === 'orders')?.rps ?? 0) > 0;
    for (let i = 0; i < 30 && !(ordersSeen() && pgRoutes.stdout.trim() === pgNotice); i++) {
      await sleep(1000);
      if (!ordersSeen()) {
        const v = await outpost(['viz', 'routes', 'svc/api-server', '-n', 'hybrid-app', '-o', 'json', '--data-dir', dataDir]);
        if (v.code === 0) routes = JSON.parse(v.stdout) as RouteRow[];
      }
      if (pgRoutes.stdout.trim() !== pgNotice) pgRoutes = await outpost(['viz', 'routes', 'svc/postgres', '-n', 'hybrid-app', '--data-dir', dataDir]);
    }
    const r = await running;
    const output = r.stdout + r.stderr;
    assert.equal(r.code, 0, output);
    const orders = routes.find((x) => x.route === 'orders');
    assert.ok(orders && orders.rps > 0 && orders.successRate! > 0.9, `viz routes during the demo: ${JSON.stringify(routes)}`);
    assert.deepEqual(orders.matches, ['GET /orders*']);
    assert.equal(pgRoutes.code, 0, pgRoutes.stderr);
    assert.equal(pgRoutes.stdout.trim(), pgNotice);

    // Every step reported, the workloads onboarded with bundles in the data dir.
    for (const step of ['[1/6] control plane', '[2/6] network', '[3/6] hybrid-app', '[4/6] onboarded', '[5/6] workloads', '[6/6] traffic']) assert.ok(output.includes(step), `step ${step}\n${output}`);
    assert.match(output, netns ? /one network namespace per workload/ : /loopback addresses/);
    for (const w of ['api-server', 'postgres-primary', 'redis-cache']) {
      assert.ok(existsSync(join(dataDir, 'demo', w, 'proxy-config.yaml')), `${w} bundle`);
      assert.ok(!existsSync(join(dataDir, 'demo', w, 'token')), `${w}'s proxy deleted its bootstrap token after enrolling`);
      assert.match(output, new RegExp(`${w}\\s+proxy ready`));
    }

    // Traffic flowed through mTLS, and only api-server's identity reached postgres.
    const summary = /Summary: postgres success ([\d.]+)% \((\d+)\/(\d+)\), redis success ([\d.]+)% \((\d+)\/(\d+)\), policy refused redis-cache → postgres (\d+)\/(\d+) \(postgres proxy denied (\d+)\), postgres clients: (.*), api-server HTTP success ([\d.]+)% \((\d+)\/(\d+), from its proxy\)/.exec(output);
    assert.ok(summary, output);
    const [, pgRate, pgOk, , redisRate, redisOk, , refused, tried, denied, clients, apiRate, apiOk] = summary;
    assert.ok(Number(apiRate) > 0 && Number(apiOk) > 0, `api-server HTTP success ${apiRate}% (its proxy's inbound metrics)`);
    assert.ok(Number(pgRate) > 0 && Number(pgOk) > 0, `postgres success ${pgRate}%`);
    assert.ok(Number(redisRate) > 0 && Number(redisOk) > 0, `redis success ${redisRate}%`);
    assert.match(output, /postgres-primary\s+[\d.]+%\s+[\d.]+\s+[\d.]+\s+100%/, 'inbound to postgres was mTLS');
    assert.match(output, /api-server\s+[\d.]+%\s+[\d.]+\s+[\d.]+\s+100%/, 'inbound to api-server was mTLS');
    assert.equal(clients.trim(), 'spiffe://cluster.local/ns/hybrid-app/sa/api-server');

    // The policy: redis-cache's attempts at postgres were refused, by postgres' proxy.
    assert.ok(Number(refused) > 0 && refused === tried, `refused ${refused}/${tried}`);
    assert.ok(Number(denied) > 0, 'the postgres proxy counted denials');

    // Cleanup: no process of this run, no namespace or bridge left.
    assert.deepEqual(processesMentioning(dataDir), [], 'no demo process left');
    if (netns) {
      const left = execFileSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`198.19.${r1}.1/24`));
      assert.deepEqual(left, [], 'bridge removed');
      const bridge = /bridge (opdemo[0-9a-f]+)/.exec(output)![1];
      const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      assert.ok(!namespaces.includes(bridge.slice('opdemo'.length)), `namespaces left: ${namespaces}`);
    }
    assert.match(output, /Stopped\. The data dir stays/);
    assert.ok(existsSync(join(dataDir, 'kubeconfig')), 'the data dir (kubeconfig) stays for the next run');
  });
});
