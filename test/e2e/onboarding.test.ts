// Issue 7 acceptance, as a user would do it, in network namespaces acting as a cluster host and four
// VMs (each with its own /etc and /var/lib): `outpost up` on the cluster, one `outpost workload
// onboard` per VM, the bundle's install.sh on each VM; the Service's EndpointSlice lists vm1, vm2's
// app reaches vm1's app over mTLS, `outpost check` is green on every host; vm1 "reboots" (proxy
// killed, token deleted, `systemctl restart`) and comes back with its persisted certificate, then is
// revoked. vm3 and vm4 install ONE group bundle and auto-register behind the redis-cache Service.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths.js';
import { createE2eNetwork, type E2eHost, type E2eNetwork, type HostProcess } from './hosts.js';
import { writeVmTools } from './vm-tools.js';
import { OUTPOST, eventually, orderedSteps, scenarioSkip, sleep } from './scenario.js';

const NS = 'payments';
const SERVICE = 'payment-processor';
const SERVER_VM = 'payment-processor-vm-1';
const CLIENT_VM = 'checkout-vm-1';
const SERVER_ID = `spiffe://cluster.local/ns/${NS}/sa/${SERVER_VM}`;
const CLIENT_ID = `spiffe://cluster.local/ns/${NS}/sa/${CLIENT_VM}`;
/** Short, so that a stopped proxy visibly turns its endpoint not ready within the test. */
const DISCONNECT_GRACE = '2s';

const skip = scenarioSkip(['curl', 'nsenter', 'unshare', 'setpriv'], 'curl, nsenter, unshare and setpriv (util-linux)');


describe('issue 7 acceptance: a VM onboarded with one command on each side', { skip, timeout: 150_000 }, () => {
  let net: E2eNetwork;
  let work: string;
  let dataDir: string;
  let cluster: E2eHost;
  let vm1: E2eHost;
  let vm2: E2eHost;
  /** The redis-cache-fleet VMs (auto-registration). */
  let redisVms: E2eHost[];
  const procs: HostProcess[] = [];
  let controlPlane: HostProcess;
  let vmBin: string;
  const bundle = (vm: string) => join(work, `${vm}-bundle`);
  const logs = () => [...new Map(procs.map((p) => [p.logFile, p])).values()].map((p) => net.tail(p)).join('\n');
  const { step, broken } = orderedSteps();

  const kubectl = (args: string[]) => net.exec(cluster, 'kubectl', ['--kubeconfig', join(dataDir, 'kubeconfig'), '--cache-dir', join(work, 'kube-cache'), ...args]);
  const outpostOn = (host: E2eHost, args: string[]) => net.exec(host, OUTPOST[0], [...OUTPOST.slice(1), ...args], { timeoutMs: 60_000 });

  /** The VM's environment: PATH with `outpost` and the systemctl stand-in (test/e2e/vm-tools.ts). */
  const vmEnv = (vm: E2eHost) => ({ PATH: `${vmBin}:${process.env.PATH}`, OUTPOST_E2E_UNITS: unitsDir(vm) });
  const unitsDir = (vm: E2eHost) => join(work, `units-${vm.name}`);
  const UNIT = 'outpost-proxy.service';
  const proxyPid = (vm: E2eHost) => Number(readFileSync(join(unitsDir(vm), `${UNIT}.pid`), 'utf8'));
  const unitLogs = () =>
    net.vms.map((vm) => {
      const file = join(unitsDir(vm), `${UNIT}.log`);
      return `--- ${UNIT} on ${vm.name} ---\n${existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-15).join('\n') : '(no log)'}`;
    }).join('\n');
  const allLogs = () => `${logs()}\n${unitLogs()}`;
  const onVm = (vm: E2eHost, cmd: string, args: string[]) => net.exec(vm, cmd, args, { env: vmEnv(vm), timeoutMs: 60_000 });

  /** On the VM, what `outpost workload onboard` says to run there: the bundle's install.sh (the bundle dir is the scp'd copy). */
  async function install(vm: E2eHost, workload: string): Promise<void> {
    mkdirSync(unitsDir(vm), { recursive: true });
    const r = await onVm(vm, join(bundle(workload), 'install.sh'), []);
    assert.equal(r.code, 0, `install.sh on ${vm.name}: ${r.stderr}\n${r.stdout}\n${unitLogs()}`);
    assert.match(r.stdout, /outpost-proxy started/);
  }

  const proxyReady = (vm: E2eHost) =>
    eventually(`the proxy on ${vm.name} to be ready`, async () => {
      const pid = proxyPid(vm);
      if (!existsSync(`/proc/${pid}`)) assert.fail(`the proxy on ${vm.name} (pid ${pid}) exited\n${unitLogs()}`);
      const r = await net.exec(vm, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:4191/ready']);
      return r.stdout === '200' ? true : undefined;
    }, 30_000, allLogs);

  const metrics = async (vm: E2eHost) => (await net.exec(vm, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;

  /** ready condition of vm1's address in the Service's EndpointSlices, or undefined if absent. */
  async function endpointReady(): Promise<boolean | undefined> {
    const r = await kubectl(['get', 'endpointslices', '-n', NS, '-l', `kubernetes.io/service-name=${SERVICE}`, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const slices = JSON.parse(r.stdout).items as { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[];
    const ep = slices.flatMap((s) => s.endpoints ?? []).find((e) => e.addresses.includes(vm1.address));
    return ep ? ep.conditions?.ready === true : undefined;
  }

  /** vm2's client app: an HTTP request through vm2's proxy (its outbound HTTP proxy port), by Service name. */
  const callService = (path: string) =>
    net.exec(vm2, 'curl', ['-s', '-m', '5', '-w', '\n%{http_code}', '-x', 'http://127.0.0.1:4140', `http://${SERVICE}.${NS}.svc.cluster.local:8080${path}`]);

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'outpost-e2e-'));
    dataDir = join(work, 'cluster-data');
    vmBin = writeVmTools(work);
    net = createE2eNetwork(['vm1', 'vm2', 'vm3', 'vm4'], work);
    ({ cluster } = net);
    [vm1, vm2, ...redisVms] = net.vms;

    // Cluster host: the control plane on its own address, free ports.
    controlPlane = net.start(cluster, 'outpost up', OUTPOST[0], [
      ...OUTPOST.slice(1), 'up', '--data-dir', dataDir, '--listen', cluster.address, '--api-port', '0', '--identity-port', '0',
      '--destination-port', '0', '--policy-port', '0', '--health-port', '0', '--admin-port', '0', '--viz-port', '0',
      '--workload-disconnect-grace', DISCONNECT_GRACE, '--scrape-interval', '1s',
    ], join(work, 'control-plane.log'));
    procs.push(controlPlane);
    await eventually('outpost up', async () => {
      if (controlPlane.child.exitCode !== null) assert.fail(`outpost up exited with ${controlPlane.child.exitCode}`);
      return readFileSync(controlPlane.logFile, 'utf8').includes('Outpost control plane is up') ? true : undefined;
    }, 40_000, logs);

    // The apps: vm1 serves the payment processor on its loopback (reached only through its proxy).
    const app = `require('node:http').createServer((q, s) => s.end('payment-processor on vm1 ' + q.url)).listen(8080, '127.0.0.1')`;
    procs.push(net.start(vm1, 'app@vm1', process.execPath, ['-e', app], join(work, 'app-vm1.log')));
  });

  after(async () => {
    await net?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  step('applies the guide Service and onboards both VMs with one command each', async () => {
    const service = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'guide', 'payment-service.yaml'), 'utf8');
    writeFileSync(join(work, 'payment-service.yaml'), service);
    const ns = await kubectl(['create', 'namespace', NS]);
    assert.equal(ns.code, 0, ns.stderr);
    const applied = await kubectl(['apply', '-f', join(work, 'payment-service.yaml')]);
    assert.equal(applied.code, 0, applied.stderr);

    for (const [vm, name, extra] of [
      [vm1, SERVER_VM, ['--port', 'http:8080', '--label', `app=${SERVICE}`]],
      [vm2, CLIENT_VM, ['--label', 'app=checkout']], // a client-only workload: no --port
    ] as const) {
      const r = await outpostOn(cluster, ['workload', 'onboard', name, '-n', NS, '--ip', vm.address, ...extra,
        '--control-plane-host', cluster.address, '--data-dir', dataDir, '--out', bundle(name)]);
      assert.equal(r.code, 0, `onboard ${name}: ${r.stderr}\n${r.stdout}`);
      assert.match(r.stdout, new RegExp(`externalworkload\\s+${name} created`));
      for (const f of ['ca.crt', 'token', 'proxy-config.yaml', 'outpost-proxy.service', 'install.sh']) assert.ok(existsSync(join(bundle(name), f)), `bundle has ${f}`);
      assert.match(readFileSync(join(bundle(name), 'proxy-config.yaml'), 'utf8'), new RegExp(`endpoint: ${cluster.address.replaceAll('.', '\\.')}:\\d+`));
    }
  });

  step("runs the bundle's install.sh on each VM: vm1 appears ready in the Service EndpointSlice", async () => {
    await install(vm1, SERVER_VM);
    await install(vm2, CLIENT_VM);
    await proxyReady(vm1);
    await proxyReady(vm2);
    // Installed as a real VM would have it, and running as the proxy user.
    const installed = await onVm(vm1, 'ls', ['/etc/outpost', '/etc/systemd/system/outpost-proxy.service']);
    assert.match(installed.stdout, /ca\.crt\nproxy-config\.yaml\ntoken/, installed.stderr);
    assert.match(readFileSync(`/proc/${proxyPid(vm1)}/status`, 'utf8'), /^Uid:\s+2102\s/m);
    await eventually(`${vm1.address} ready in the ${SERVICE} EndpointSlice`, async () => ((await endpointReady()) === true ? true : undefined), 20_000, allLogs);
    const ew = await kubectl(['get', 'externalworkload', SERVER_VM, '-n', NS, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    assert.equal(ew.stdout, 'True', ew.stderr);
  });

  /** The first answer vm2's app gets once vm1 is ready (at start and after the reboot); checked at the end. */
  const firstAnswers: { when: string; answer: string }[] = [];
  const firstAnswer = async (when: string) => firstAnswers.push({ when, answer: (await callService(`/first-${when}`)).stdout.replace(/\n/g, ' ') });

  step("vm2's app reaches vm1's app through both proxies over mTLS, with each side's identity", async () => {
    await firstAnswer('start');
    const r = await eventually('a 200 from the Service through vm2\'s proxy', async () => {
      const res = await callService('/charge');
      return res.stdout.endsWith('\n200') ? res : undefined;
    }, 15_000, allLogs);
    assert.equal(r.stdout, 'payment-processor on vm1 /charge\n200');

    const server = await metrics(vm1);
    const inbound = server.split('\n').filter((l) => l.startsWith('request_total{') && l.includes('direction="inbound"'));
    assert.ok(inbound.some((l) => l.includes('tls="true"') && l.includes(`client_id="${CLIENT_ID}"`)), `vm1 inbound request_total with tls and client_id ${CLIENT_ID}:\n${inbound.join('\n')}`);
    const client = await metrics(vm2);
    const outbound = client.split('\n').filter((l) => l.startsWith('request_total{') && l.includes('direction="outbound"'));
    assert.ok(outbound.some((l) => l.includes('tls="true"') && l.includes(`server_id="${SERVER_ID}"`)), `vm2 outbound request_total with tls and server_id ${SERVER_ID}:\n${outbound.join('\n')}`);
    // The app itself is not reachable from vm2 without the mesh: it listens on vm1's loopback only.
    const direct = await net.exec(vm2, 'curl', ['-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://${vm1.address}:8080/`]);
    assert.equal(direct.stdout, '000');
    // And vm1's proxy only speaks mTLS: plain HTTP to its inbound port gets no answer.
    const plain = await net.exec(vm2, 'curl', ['-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://${vm1.address}:4143/`]);
    assert.equal(plain.stdout, '000');
  });

  step('the viz on the cluster host scrapes both VMs\' proxies (default bundle): stat shows them meshed with traffic, the edge secured', async () => {
    // The bundles' proxies listen for metrics on every address and the control plane records the
    // address their health streams come from (ADR 0012): nothing to configure for the viz.
    const sending = (async () => {
      for (let i = 0; i < 40; i++) await callService(`/viz-${i}`);
    })();
    const stat = await eventually('vm1 meshed with traffic in `outpost viz stat`', async () => {
      const r = await outpostOn(cluster, ['viz', 'stat', 'ew', '-n', NS, '-o', 'json', '--data-dir', dataDir]);
      assert.equal(r.code, 0, r.stderr);
      const rows = JSON.parse(r.stdout) as { name: string; meshed: string; rps: number }[];
      const server = rows.find((x) => x.name === SERVER_VM);
      return server && server.meshed === '1/1' && server.rps > 0 && rows.find((x) => x.name === CLIENT_VM)?.meshed === '1/1' ? rows : undefined;
    }, 30_000, allLogs);
    await sending;
    assert.ok(stat.find((x) => x.name === SERVER_VM)!.rps > 0);
    const ew = await kubectl(['get', 'externalworkload', SERVER_VM, '-n', NS, '-o', 'jsonpath={.status.proxy.adminAddress}']);
    assert.equal(ew.stdout, `${vm1.address}:4191`, 'the admin address as the control plane reaches it');
    const edges = await outpostOn(cluster, ['viz', 'edges', 'ew', '-n', NS, '-o', 'json', '--data-dir', dataDir]);
    assert.equal(edges.code, 0, edges.stderr);
    const edge = (JSON.parse(edges.stdout) as { src: string; dst: string; secured: boolean; clientId: string; serverId: string }[]).find((e) => e.src === CLIENT_VM && e.dst === SERVER_VM);
    assert.deepEqual(edge && [edge.secured, edge.clientId, edge.serverId], [true, CLIENT_ID, SERVER_ID]);
    // Tap reaches vm1's tap listener (mTLS, viz identity only) at the recorded address too.
    const tap = outpostOn(cluster, ['viz', 'tap', `externalworkload/${SERVER_VM}`, '-n', NS, '--path', '/tapped', '--limit', '1', '-o', 'json', '--data-dir', dataDir]);
    const tapped = await eventually('a tapped request', async () => {
      await callService('/tapped');
      return Promise.race([tap, sleep(500).then(() => undefined)]);
    }, 20_000, allLogs);
    assert.equal(tapped.code, 0, tapped.stderr);
    const event = JSON.parse(tapped.stdout.trim().split('\n')[0]) as { direction: string; path: string; sourceIdentity: string; status: number };
    assert.deepEqual([event.direction, event.path, event.sourceIdentity, event.status], ['inbound', '/tapped', CLIENT_ID, 200]);
  });

  step('outpost check on the cluster host is all green', async () => {
    const r = await outpostOn(cluster, ['check', '--data-dir', dataDir]);
    assert.equal(r.code, 0, `outpost check failed:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout, /×/);
  });

  step('outpost check --proxy on each VM is all green', async () => {
    for (const vm of [vm1, vm2]) {
      const r = await onVm(vm, 'outpost', ['check', '--proxy']);
      assert.equal(r.code, 0, `outpost check --proxy on ${vm.name} failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /proxy is ready/);
      assert.doesNotMatch(r.stdout, /×/);
    }
  });

  step('vm1 reboots: proxy killed, token deleted, `systemctl restart`: back with its persisted certificate', async () => {
    const cert = async () => (await onVm(vm1, 'cat', ['/var/lib/outpost/proxy/proxy.crt'])).stdout;
    const certBefore = await cert();
    assert.match(certBefore, /BEGIN CERTIFICATE/);
    process.kill(proxyPid(vm1), 'SIGKILL');
    unlinkSync(join(bundle(SERVER_VM), 'token'));
    const rm = await onVm(vm1, 'rm', ['/etc/outpost/token']);
    assert.equal(rm.code, 0, rm.stderr);
    // While it is down, the control plane notices (heartbeat lost after the grace) and drops it from ready.
    await eventually(`${vm1.address} not ready while its proxy is down`, async () => ((await endpointReady()) === false ? true : undefined), 20_000, allLogs);
    const down = await callService('/while-down');
    assert.ok(!down.stdout.endsWith('\n200'), `no 200 while vm1 is down: ${down.stdout}`);

    const restart = await onVm(vm1, 'systemctl', ['restart', UNIT]);
    assert.equal(restart.code, 0, restart.stderr);
    await proxyReady(vm1);
    assert.equal(await cert(), certBefore, 'the restarted proxy kept its certificate (no new token was available)');
    assert.match(readFileSync(join(unitsDir(vm1), `${UNIT}.log`), 'utf8'), /using the persisted certificate/);
    assert.match(readFileSync(join(unitsDir(vm1), `${UNIT}.log`), 'utf8'), /bootstrap token is used up: enrolled/, 'after its first enrolment the proxy stopped needing the token');
    await eventually(`${vm1.address} ready again`, async () => ((await endpointReady()) === true ? true : undefined), 20_000, allLogs);
    await firstAnswer('reboot');
    const r = await eventually('traffic to flow again', async () => {
      const res = await callService('/after-reboot');
      return res.stdout.endsWith('\n200') ? res : undefined;
    }, 15_000, allLogs);
    assert.equal(r.stdout, 'payment-processor on vm1 /after-reboot\n200');
  });

  // The first request right after vm1 turned ready (at start and after the reboot) must not be
  // refused while its proxy is still fetching the port's inbound policy (fixed in a1a9616).
  it('the first request once vm1 is ready succeeds, at start and after the reboot', (t) => {
    if (broken()) return t.skip(`an earlier step failed: ${broken()}`);
    assert.equal(firstAnswers.length, 2, 'both traffic steps ran');
    const failed = firstAnswers.filter((a) => !a.answer.endsWith(' 200'));
    assert.deepEqual(failed, [], `first requests not answered 200: ${failed.map((a) => `${a.when}: "${a.answer}"`).join('; ')}`);
  });

  /**
   * From vm1, with vm1's own certificate and key (as its proxy holds them), a mesh request to vm2's
   * proxy: "answered <status>" when vm2 accepts the certificate, "refused <reason>" otherwise.
   */
  const probeWithVm1Certificate = async () => {
    const script = `const tls = require('node:tls'); const fs = require('node:fs');
      const s = tls.connect({ host: '${vm2.address}', port: 4143, ALPNProtocols: ['http/1.1'], servername: '${CLIENT_VM}.${NS}.svc.cluster.local',
        ca: fs.readFileSync('/etc/outpost/ca.crt'), cert: fs.readFileSync('/var/lib/outpost/proxy/proxy.crt'), key: fs.readFileSync('/var/lib/outpost/proxy/proxy.key'),
        checkServerIdentity: () => undefined });
      let out = ''; const done = (r) => { console.log(r); process.exit(0); };
      s.on('secureConnect', () => s.write('GET /probe HTTP/1.1\\r\\nhost: ${CLIENT_VM}\\r\\noutpost-dst-port: 8080\\r\\nconnection: close\\r\\n\\r\\n'));
      s.on('data', (d) => { out += d; const m = /^HTTP\\/1\\.1 (\\d+)/.exec(out); if (m) done('answered ' + m[1]); });
      s.on('error', (e) => done('refused ' + e.message)); s.on('close', () => done('refused closed'));
      setTimeout(() => done('refused timeout'), 4000);`;
    return (await onVm(vm1, process.execPath, ['-e', script])).stdout.trim();
  };
  let revokedAt = 0;

  step('revoke vm1: it leaves the EndpointSlice within seconds and vm2 no longer reaches it', async () => {
    assert.match(await probeWithVm1Certificate(), /^answered \d+$/, 'before revocation vm2 accepts vm1\'s certificate');
    const r = await outpostOn(cluster, ['workload', 'revoke', SERVER_VM, '-n', NS, '--reason', 'e2e', '--data-dir', dataDir]);
    assert.equal(r.code, 0, `outpost workload revoke: ${r.stderr}\n${r.stdout}`);
    revokedAt = Date.now();
    await eventually(`${vm1.address} gone from the EndpointSlice`, async () => ((await endpointReady()) === undefined ? true : undefined), 10_000, allLogs);
    // "within a second" on a quiet machine; kubectl itself takes a few hundred ms on this shared one.
    assert.ok(Date.now() - revokedAt < 5000, `left the EndpointSlice ${Date.now() - revokedAt} ms after the revoke`);
    const res = await eventually('requests to fail', async () => {
      const out = await callService('/after-revoke');
      return out.stdout.endsWith('\n200') ? undefined : out;
    }, 10_000, allLogs);
    assert.doesNotMatch(res.stdout, /payment-processor on vm1/);
    // vm1's own proxy learns it was revoked and stops serving.
    await eventually("vm1's proxy to stop", async () => (existsSync(`/proc/${proxyPid(vm1)}`) ? undefined : true), 10_000, allLogs);
    assert.match(readFileSync(join(unitsDir(vm1), `${UNIT}.log`), 'utf8'), /revoked this workload/);
  });

  it("after revocation every peer refuses vm1's current certificate within seconds", async (t) => {
    if (broken() || !revokedAt) return t.skip('the revoke step did not run');
    let answer = '';
    for (const deadline = Date.now() + 5_000; Date.now() < deadline && !answer.startsWith('refused'); await sleep(500)) answer = await probeWithVm1Certificate();
    assert.match(answer, /^refused/, `vm2's proxy still accepts vm1's revoked certificate 5 s after the revoke: ${answer}`);
  });
  // Independent of the steps above (it needs only the control plane): its own namespace and VMs.
  it('auto-registers two VMs into the redis-cache-fleet group with ONE bundle: both ready behind the headless Service', async () => {
    const guide = join(REPO_ROOT, 'test', 'fixtures', 'guide');
    const ns = await kubectl(['create', 'namespace', 'caching']);
    assert.equal(ns.code, 0, ns.stderr);
    for (const f of ['workload-group.yaml', 'redis-headless-service.yaml']) {
      const applied = await kubectl(['apply', '-f', join(guide, f)]);
      assert.equal(applied.code, 0, `${f}: ${applied.stderr}`);
    }
    // The apps: the guide's group probe is GET :8080/health on each VM.
    for (const vm of redisVms) {
      const app = `require('node:http').createServer((q, s) => { s.statusCode = q.url === '/health' ? 200 : 404; s.end(); }).listen(8080, '127.0.0.1')`;
      procs.push(net.start(vm, `redis-health@${vm.name}`, process.execPath, ['-e', app], join(work, `app-${vm.name}.log`)));
    }

    // Cluster host: one command for the whole group.
    const fleetBundle = join(work, 'redis-cache-fleet-bundle');
    const r = await outpostOn(cluster, ['workload', 'onboard', '--group', 'redis-cache-fleet', '-n', 'caching', '--out', fleetBundle,
      '--control-plane-host', cluster.address, '--data-dir', dataDir]);
    assert.equal(r.code, 0, `onboard --group: ${r.stderr}\n${r.stdout}`);
    assert.match(r.stdout, /bound to serviceaccount redis-cache-fleet: created/);
    assert.match(r.stdout, /install\.sh --capture/);

    // Each VM: a copy of the same bundle (what scp does), then install.sh; vm3 names its address, vm4's is detected from its route.
    const installs = redisVms.map(async (vm, i) => {
      const copy = join(work, `scp-${vm.name}`);
      cpSync(fleetBundle, copy, { recursive: true });
      mkdirSync(unitsDir(vm), { recursive: true });
      const res = await onVm(vm, join(copy, 'install.sh'), i === 0 ? ['--address', vm.address] : []);
      assert.equal(res.code, 0, `install.sh on ${vm.name}: ${res.stderr}\n${res.stdout}\n${unitLogs()}`);
      assert.match(res.stdout, new RegExp(`outpost-proxy started for caching/group:redis-cache-fleet at ${vm.address.replaceAll('.', '\\.')};`));
    });
    await Promise.all(installs);
    await Promise.all(redisVms.map((vm) => proxyReady(vm)));

    const hostnameOf = (vm: E2eHost) => `redis-cache-fleet-${vm.address.replaceAll('.', '-')}`;
    const expected = redisVms.map((vm) => ({ address: vm.address, hostname: hostnameOf(vm), ready: true })).sort((a, b) => a.address.localeCompare(b.address));
    type Slice = { endpoints?: { addresses: string[]; hostname?: string; conditions?: { ready?: boolean } }[] };
    let seen: unknown;
    await eventually('both VMs ready, with their hostnames, in the redis-cache EndpointSlice', async () => {
      const res = await kubectl(['get', 'endpointslices', '-n', 'caching', '-l', 'kubernetes.io/service-name=redis-cache', '-o', 'json']);
      assert.equal(res.code, 0, res.stderr);
      seen = (JSON.parse(res.stdout).items as Slice[]).flatMap((sl) => sl.endpoints ?? [])
        .map((e) => ({ address: e.addresses[0], hostname: e.hostname, ready: e.conditions?.ready === true }))
        .sort((a, b) => a.address.localeCompare(b.address));
      return JSON.stringify(seen) === JSON.stringify(expected) ? true : undefined;
    }, 30_000, () => `EndpointSlice endpoints: ${JSON.stringify(seen)}\n${allLogs()}`);

    // The members were registered by the proxies themselves, from the group template.
    const ews = await kubectl(['get', 'externalworkloads', '-n', 'caching', '-l', 'workloadGroup=redis-cache-fleet', '-o', 'json']);
    assert.equal(ews.code, 0, ews.stderr);
    const members = (JSON.parse(ews.stdout).items as { metadata: { name: string; annotations?: Record<string, string> } }[])
      .map((m) => [m.metadata.name, m.metadata.annotations?.['outpost.io/auto-registered']]).sort();
    assert.deepEqual(members, redisVms.map((vm) => [hostnameOf(vm), 'true']).sort());
  });
});
