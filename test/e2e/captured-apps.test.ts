// Issue 19, as a user would do it: real PostgreSQL and Redis on captured VMs (network namespaces,
// `install.sh --capture`), clients on other captured VMs (`install.sh --capture --dns`) reaching
// them BY SERVICE NAME (`postgres://postgres@postgres:5432/myapp`, the guide's DATABASE_URL) through
// the mesh with the guide's policy enforced, the same VMs still reaching a host outside the mesh
// (by a name their own resolver knows, over IPv4 and IPv6), and plaintext over IPv6 (or IPv4) to a
// captured port failing closed. pgbench runs through the mesh with 0 failed transactions.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canUseNetns } from '../support/netns.js';
import { REPO_ROOT } from '../support/paths.js';
import { createE2eNetwork, type E2eHost, type E2eNetwork, type HostProcess } from './hosts.js';
import { writeVmTools } from './vm-tools.js';
import { OUTPOST, eventually as eventuallyWithLogs, orderedSteps, sleep } from './scenario.js';

const NS = 'hybrid-app';
/** The embedded API's Service range: inside 198.18.0.0/15, never 10.x. */
const SERVICE_CIDR = '198.18.252.0/24';
const PG_BIN = (() => {
  try {
    const v = readdirSync('/usr/lib/postgresql').sort().at(-1);
    return v ? `/usr/lib/postgresql/${v}/bin` : undefined;
  } catch {
    return undefined;
  }
})();
const hasTools = ['curl', 'nsenter', 'unshare', 'setpriv', 'psql', 'pgbench', 'redis-server', 'redis-cli', 'ip6tables', 'getent'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0) && !!PG_BIN;
const skip = !canUseNetns() ? 'needs root and network namespaces (ip netns)' : !hasTools ? 'needs postgresql, redis-server, redis-tools, iptables, curl, util-linux (scripts/test.sh installs them)' : false;


const POLICY = `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: redis-server, namespace: ${NS} }
spec:
  podSelector: { matchLabels: { app: redis } }
  port: 6379
  proxyProtocol: opaque
---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: { name: redis-auth, namespace: ${NS} }
spec:
  server: { name: redis-server }
  client: { meshTLS: { serviceAccounts: [{ name: api-server }] } }
`;

describe('issue 19: real PostgreSQL and Redis on captured VMs, reached by Service name', { skip, timeout: 240_000 }, () => {
  let net: E2eNetwork;
  let work: string;
  let dataDir: string;
  let cluster: E2eHost;
  let db: E2eHost;
  let cache: E2eHost;
  let app: E2eHost;
  let intruder: E2eHost;
  let outside: E2eHost;
  const procs: HostProcess[] = [];
  let vmBin: string;
  const { step } = orderedSteps();
  const unitsDir = (vm: E2eHost) => join(work, `units-${vm.name}`);
  const unitLog = (vm: E2eHost) => {
    const f = join(unitsDir(vm), 'outpost-proxy.service.log');
    return existsSync(f) ? `--- proxy on ${vm.name} ---\n${readFileSync(f, 'utf8').trimEnd().split('\n').slice(-12).join('\n')}` : '';
  };
  const logs = () => [...procs.map((p) => net.tail(p, 8)), ...[db, cache, app, intruder].map(unitLog)].join('\n');
  const vmEnv = (vm: E2eHost) => ({ PATH: `${vmBin}:${process.env.PATH}`, OUTPOST_E2E_UNITS: unitsDir(vm) });
  const on = (vm: E2eHost, cmd: string, args: string[], timeoutMs = 60_000) => net.exec(vm, cmd, args, { env: vmEnv(vm), timeoutMs });
  const sh = (vm: E2eHost, script: string, timeoutMs = 60_000) => on(vm, 'sh', ['-c', script], timeoutMs);
  const kubectl = (args: string[]) => net.exec(cluster, 'kubectl', ['--kubeconfig', join(dataDir, 'kubeconfig'), '--cache-dir', join(work, 'kube-cache'), ...args]);
  const metrics = async (vm: E2eHost) => (await net.exec(vm, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;

  const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000) => eventuallyWithLogs(what, fn, timeoutMs, logs, 300);

  async function onboardAndInstall(vm: E2eHost, name: string, extra: string[], installArgs: string[]): Promise<void> {
    const bundle = join(work, `${name}-bundle`);
    const r = await net.exec(cluster, OUTPOST[0], [...OUTPOST.slice(1), 'workload', 'onboard', name, '-n', NS, '--ip', vm.address, ...extra,
      '--control-plane-host', cluster.address, '--data-dir', dataDir, '--out', bundle], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `onboard ${name}: ${r.stderr}\n${r.stdout}`);
    mkdirSync(unitsDir(vm), { recursive: true });
    const inst = await on(vm, join(bundle, 'install.sh'), installArgs);
    assert.equal(inst.code, 0, `install.sh on ${vm.name}: ${inst.stderr}\n${inst.stdout}\n${unitLog(vm)}`);
    await eventually(`the proxy on ${vm.name} to be ready`, async () => {
      const res = await net.exec(vm, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:4191/ready']);
      return res.stdout === '200' ? true : undefined;
    });
  }

  const psql = (vm: E2eHost, url: string, sql: string) => on(vm, 'psql', [url, '-XAtc', sql], 20_000);

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'outpost-e2e19-'));
    dataDir = join(work, 'cluster-data');
    vmBin = writeVmTools(work);
    net = createE2eNetwork(['db', 'cache', 'app', 'intruder', 'outside'], work, { ipv6: true });
    ({ cluster } = net);
    [db, cache, app, intruder, outside] = net.vms;

    const cp = net.start(cluster, 'outpost up', OUTPOST[0], [
      ...OUTPOST.slice(1), 'up', '--data-dir', dataDir, '--listen', cluster.address, '--api-port', '0', '--identity-port', '0',
      '--destination-port', '0', '--policy-port', '0', '--health-port', '0', '--admin-port', '0', '--viz-port', '0', '--service-cidr', SERVICE_CIDR,
    ], join(work, 'control-plane.log'));
    procs.push(cp);

    // The outside host: plain HTTP and the VMs' own resolver (it knows outside.test).
    const tsx = import.meta.resolve('tsx').replace(/^file:\/\//, '');
    procs.push(net.start(outside, 'outside host', process.execPath, ['--import', tsx, join(REPO_ROOT, 'test/e2e/fixtures/outside-host.ts'), 'outside.test', outside.address], join(work, 'outside.log')));
    // PostgreSQL on db (every address, trust: only the mesh stands between it and the network), Redis on cache.
    const pgdata = join(work, 'pgdata');
    mkdirSync(pgdata, { mode: 0o700 });
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(pgdata, uid, gid);
    const asPg = ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups'];
    const init = await net.exec(db, asPg[0], [...asPg.slice(1), `${PG_BIN}/initdb`, '-D', pgdata, '-U', 'postgres', '-A', 'trust'], { timeoutMs: 120_000 });
    assert.equal(init.code, 0, init.stderr);
    writeFileSync(join(pgdata, 'pg_hba.conf'), 'local all all trust\nhost all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n');
    procs.push(net.start(db, 'postgres', asPg[0], [...asPg.slice(1), `${PG_BIN}/postgres`, '-D', pgdata, '-c', 'listen_addresses=*', '-c', 'port=5432', '-c', `unix_socket_directories=${pgdata}`, '-c', 'fsync=off'], join(work, 'postgres.log')));
    procs.push(net.start(cache, 'redis', 'redis-server', ['--port', '6379', '--bind', '0.0.0.0 ::', '--protected-mode', 'no', '--save', '', '--appendonly', 'no'], join(work, 'redis.log')));
    // The client VMs resolve through the outside host's DNS server, as a VM's resolv.conf would say.
    for (const vm of [app, intruder]) assert.equal((await sh(vm, `rm -f /etc/resolv.conf && echo "nameserver ${outside.address}" > /etc/resolv.conf`)).code, 0);

    await eventually('outpost up', async () => (readFileSync(cp.logFile, 'utf8').includes('Outpost control plane is up') ? true : undefined), 40_000);
    await eventually('postgres', async () => ((await psql(db, 'postgres://postgres@127.0.0.1:5432/postgres', 'select 1')).stdout.trim() === '1' ? true : undefined));
    assert.equal((await psql(db, 'postgres://postgres@127.0.0.1:5432/postgres', 'create database myapp')).code, 0);
  });

  after(async () => {
    await net?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  step('without capture, PostgreSQL on db answers anyone in plaintext, over IPv6 too (what capture must close)', async () => {
    const r = await psql(outside, `postgres://postgres@[${db.address6}]:5432/myapp`, 'select 6');
    assert.equal(r.stdout.trim(), '6', r.stderr);
  });

  step("applies the guide's Services and policy, onboards the four VMs and installs their bundles with --capture (clients --dns)", async () => {
    assert.equal((await kubectl(['create', 'namespace', NS])).code, 0);
    writeFileSync(join(work, 'redis-policy.yaml'), POLICY);
    const applied = await kubectl(['apply', '-f', join(REPO_ROOT, 'test/fixtures/guide/services.yaml'), '-f', join(REPO_ROOT, 'test/fixtures/guide/traffic-policy.yaml'), '-f', join(work, 'redis-policy.yaml')]);
    assert.equal(applied.code, 0, applied.stderr);
    const ip = await kubectl(['get', 'svc', 'postgres', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}']);
    assert.match(ip.stdout, /^198\.18\.252\.\d+$/, 'the cluster IP comes from --service-cidr');
    await onboardAndInstall(db, 'postgres-primary', ['--port', 'postgres:5432', '--label', 'app=postgres'], ['--capture']);
    await onboardAndInstall(cache, 'redis-cache', ['--port', 'redis:6379', '--label', 'app=redis'], ['--capture']);
    await onboardAndInstall(app, 'api-server', ['--label', 'app=api-server'], ['--capture', '--dns']);
    await onboardAndInstall(intruder, 'intruder', ['--label', 'app=intruder'], ['--capture', '--dns']);
    for (const vm of [db, cache, app]) {
      const c = await on(vm, 'outpost', ['proxy-init', '--external-workload', '--check', '--proxy-uid', '2102', ...(vm === app ? ['--redirect-dns'] : []), ...(vm === db ? ['--inbound-ports', '5432'] : vm === cache ? ['--inbound-ports', '6379'] : [])]);
      assert.equal(c.code, 0, `proxy-init --check on ${vm.name}: ${c.stdout}${c.stderr}`);
      assert.match(c.stdout, /iptables, ip6tables/);
    }
  });

  step('the app VM resolves Service names to cluster IPs, and other names through its own resolver', async () => {
    const svcIp = (await kubectl(['get', 'svc', 'postgres', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    for (const name of ['postgres', 'postgres.hybrid-app', 'postgres.hybrid-app.svc.cluster.local']) {
      const r = await eventually(`${name} to resolve`, async () => {
        const g = await on(app, 'getent', ['ahostsv4', name]);
        return g.code === 0 ? g : undefined;
      });
      assert.equal(r.stdout.split(/\s+/)[0], svcIp, name);
    }
    const other = await on(app, 'getent', ['ahostsv4', 'outside.test']);
    assert.equal(other.stdout.split(/\s+/)[0], outside.address, `outside.test through the VM's resolver: ${other.stderr}\n${logs()}`);
    assert.notEqual((await on(app, 'getent', ['ahostsv4', 'nosuch.hybrid-app.svc.cluster.local'])).code, 0);
  });

  step('the captured app VM still reaches a host outside the mesh, unchanged, by name and over IPv6; the proxy counts it as unmeshed', async () => {
    const r = await on(app, 'curl', ['-s', '-m', '5', 'http://outside.test:8080/by-name']);
    assert.equal(r.stdout, 'outside host /by-name\n', r.stderr);
    const v6 = await on(app, 'curl', ['-s', '-m', '5', `http://[${outside.address6}]:8080/v6`]);
    assert.equal(v6.stdout, 'outside host /v6\n', v6.stderr);
    const m = await metrics(app);
    const forwarded = m.split('\n').filter((l) => l.startsWith('tcp_open_total{') && l.includes(`target_addr="${outside.address}:8080"`));
    assert.ok(forwarded.some((l) => l.includes('no_tls_reason="not_provided_by_service_discovery"')), `app proxy forwarded ${outside.address}:8080 as unmeshed:\n${forwarded.join('\n')}`);
  });

  step("the app reaches PostgreSQL with the guide's DATABASE_URL and Redis by name, over mTLS as api-server", async () => {
    const r = await eventually('a query through the mesh', async () => {
      const q = await psql(app, 'postgres://postgres@postgres:5432/myapp', 'select 40 + 2');
      return q.stdout.trim() === '42' ? q : undefined;
    });
    assert.equal(r.stdout.trim(), '42');
    assert.equal((await on(app, 'redis-cli', ['-h', 'redis', '-p', '6379', 'SET', 'k', 'mesh'])).stdout.trim(), 'OK');
    assert.equal((await on(app, 'redis-cli', ['-h', 'redis.hybrid-app', '-p', '6379', 'GET', 'k'])).stdout.trim(), 'mesh');
    const m = await metrics(db);
    assert.ok(m.split('\n').some((l) => l.startsWith('tcp_open_total{') && l.includes('direction="inbound"') && l.includes(`client_id="spiffe://cluster.local/ns/${NS}/sa/api-server"`)), `db inbound over mTLS from api-server:\n${m.split('\n').filter((l) => l.startsWith('tcp_open_total')).join('\n')}`);
  });

  step('policy holds: the intruder VM (meshed, not authorized) is refused by both; plaintext to the captured ports fails, IPv6 included', async () => {
    const pg = await psql(intruder, 'postgres://postgres@postgres:5432/myapp', 'select 1');
    assert.notEqual(pg.stdout.trim(), '1', 'intruder must not query postgres');
    const redis = await on(intruder, 'redis-cli', ['-h', 'redis', '-p', '6379', 'GET', 'k'], 15_000);
    assert.notEqual(redis.stdout.trim(), 'mesh', 'intruder must not read redis');
    for (const target of [`[${db.address6}]`, db.address]) {
      const plain = await psql(outside, `postgres://postgres@${target}:5432/myapp?connect_timeout=3`, 'select 6');
      assert.notEqual(plain.stdout.trim(), '6', `plaintext to ${target}:5432 must fail`);
    }
    const r6 = await on(outside, 'redis-cli', ['-h', cache.address6!, '-p', '6379', 'GET', 'k'], 15_000);
    assert.notEqual(r6.stdout.trim(), 'mesh');
  });

  step('pgbench through the mesh by Service name: 0 failed transactions, reconnecting clients too', async () => {
    const url = 'postgres://postgres@postgres:5432/myapp';
    const init = await on(app, 'pgbench', ['-i', '-s', '1', '-q', url], 120_000);
    assert.equal(init.code, 0, init.stderr);
    for (const extra of [[], ['-C']]) {
      const r = await on(app, 'pgbench', ['-n', '-c', '2', '-T', '4', ...extra, url], 60_000);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /number of failed transactions: 0 /, r.stdout);
      assert.match(r.stdout, /tps = [1-9]/, r.stdout);
    }
  });

  step('pgbench across a restart of the server-side proxy (systemctl reload): 0 failed transactions, reconnecting and persistent clients', async () => {
    const url = 'postgres://postgres@postgres:5432/myapp';
    const pidFile = join(unitsDir(db), 'outpost-proxy.service.pid');
    const oldPid = Number(readFileSync(pidFile, 'utf8'));
    const reconnecting = on(app, 'pgbench', ['-n', '-c', '2', '-T', '8', '-C', url], 60_000);
    const persistent = on(app, 'pgbench', ['-n', '-c', '2', '-T', '8', url], 60_000);
    await sleep(2500);
    const reload = await on(db, 'systemctl', ['reload', 'outpost-proxy.service']);
    assert.equal(reload.code, 0, reload.stderr);
    for (const r of await Promise.all([reconnecting, persistent])) {
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${logs()}`);
      assert.match(r.stdout, /number of failed transactions: 0 /, r.stdout);
      assert.doesNotMatch(r.stdout + r.stderr, /aborted|error/i, `${r.stdout}\n${r.stderr}`);
    }
    const newPid = Number(readFileSync(pidFile, 'utf8'));
    assert.notEqual(newPid, oldPid, 'a new proxy serves');
    await eventually('the old proxy to exit after its last connection', async () => (existsSync(`/proc/${oldPid}`) ? undefined : true), 15_000);
    assert.equal((await psql(app, url, 'select 7')).stdout.trim(), '7');
    assert.match(readFileSync(join(unitsDir(db), 'outpost-proxy.service.log'), 'utf8'), /took over the listening sockets of the proxy being replaced/);
  });

  step('re-running install.sh keeps what the user added to proxy-config.yaml, and says so; the added upstream serves', async () => {
    const file = '/etc/outpost/proxy-config.yaml';
    const added = await sh(app, `printf 'upstreams:\n  - service: postgres.hybrid-app.svc.cluster.local\n    port: 5432\n    listen: 127.0.0.1:15432\n' >> ${file}`);
    assert.equal(added.code, 0, added.stderr);
    const again = await on(app, join(work, 'api-server-bundle', 'install.sh'), ['--capture', '--dns']);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.match(again.stdout, /merged with the new bundle/);
    assert.match(again.stdout, /kept upstream postgres\.hybrid-app\.svc\.cluster\.local:5432 \(yours\)/);
    assert.match((await on(app, 'cat', [file])).stdout, /listen: 127\.0\.0\.1:15432/);
    const q = await eventually('the added upstream listener', async () => {
      const r = await psql(app, 'postgres://postgres@127.0.0.1:15432/myapp', 'select 15432');
      return r.stdout.trim() === '15432' ? r : undefined;
    });
    assert.equal(q.stdout.trim(), '15432');
  });
});
