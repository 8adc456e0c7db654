// Issue 14 acceptance: a bare Debian VM (debootstrap minbase: no Node.js, npm or compiler) runs
// Outpost from the one packaged executable. The control plane is the packaged `outpost up` on the
// cluster host; `outpost workload onboard` (packaged, so the bundle carries the executable) writes
// the bundle; on the VM, a chroot into an overlay of the Debian root inside its network namespace,
// install.sh --capture installs /usr/bin/outpost and the capture rules, and starts the proxy through
// the e2e systemctl stand-in (test/e2e/vm-tools.ts: it runs the unit's ExecStart as its User=, since
// systemd cannot run here). A second VM's app calls it over mTLS; the VM's captured egress goes
// through the proxy (the embedded SO_ORIGINAL_DST addon); after a "reboot" the proxy comes back with
// its persisted certificate. The .deb installs with dpkg in another copy of the root; the unit passes systemd-analyze.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { canUseNetns } from '../support/netns.js';
import { REPO_ROOT } from '../support/paths.js';
import { createE2eNetwork, type E2eHost, type E2eNetwork, type HostProcess } from '../e2e/hosts.js';
import { writeSystemctlStandIn, writeVmTools } from '../e2e/vm-tools.js';
import { debianRoot } from './debian-root.js';
import { eventually, orderedSteps } from '../e2e/scenario.js';

const EXE = join(REPO_ROOT, 'dist-package', 'outpost');
const DEB = join(REPO_ROOT, 'dist-package', 'outpost_0.1.0_amd64.deb');
const NS = 'payments';
const SERVICE = 'payment-processor';
const SERVER = 'payment-processor-vm-1';
const CLIENT = 'checkout-vm-1';
const CLIENT_ID = `spiffe://cluster.local/ns/${NS}/sa/${CLIENT}`;
const UNIT = 'outpost-proxy.service';
/** Inside the Debian root: where the systemctl stand-in keeps the unit's pid and log. */
const UNITS_IN_ROOT = '/var/log/e2e-units';
const VM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const hasTools = ['curl', 'nsenter', 'unshare', 'setpriv', 'chroot', 'systemd-analyze', 'dpkg-deb', 'kubectl'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
const debian = canUseNetns() && hasTools ? debianRoot((line) => process.stderr.write(`bare-vm: ${line}\n`)) : undefined;
const skip = !canUseNetns()
  ? 'needs root and network namespaces (ip netns)'
  : !hasTools
    ? 'needs curl, nsenter, unshare, setpriv, chroot, systemd-analyze, dpkg-deb and kubectl'
    : debian && 'skip' in debian
      ? debian.skip
      : false;


/** Mounts, inside the VM's mount namespace, an overlay of the Debian root at $1/$3 with /proc, /dev, /tmp and /run. */
const MOUNT_ROOT = `set -e
D=$1; LOWER=$2; NAME=$3
mkdir -p "$D/$NAME-upper" "$D/$NAME-work" "$D/$NAME"
mount -t overlay "bare-$NAME" -o "lowerdir=$LOWER,upperdir=$D/$NAME-upper,workdir=$D/$NAME-work" "$D/$NAME"
mount -t proc proc "$D/$NAME/proc"
mount --rbind /dev "$D/$NAME/dev"
mount -t tmpfs -o mode=1777 tmpfs "$D/$NAME/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$D/$NAME/run"`;

describe('issue 14 acceptance: a bare Debian VM runs Outpost from the packaged executable', { skip, timeout: 240_000 }, () => {
  let net: E2eNetwork;
  let work: string;
  let dataDir: string;
  let cluster: E2eHost;
  let bare: E2eHost;
  let client: E2eHost;
  let vmBin: string;
  let version: string;
  const procs: HostProcess[] = [];
  /** The chroot of the bare VM, as a path inside its mount namespace. */
  const rootOf = (name: string) => join(work, `disk-bare`, name);
  /** A path inside the bare VM's root, as this process reads it (through the VM's mount namespace). */
  const inRoot = (p: string) => join('/proc', String(bare.initPid), 'root', rootOf('root'), p);
  const unitLog = () => (existsSync(inRoot(`${UNITS_IN_ROOT}/${UNIT}.log`)) ? readFileSync(inRoot(`${UNITS_IN_ROOT}/${UNIT}.log`), 'utf8') : '(no log)');
  const clientUnits = () => join(work, 'units-client');
  const logs = () =>
    [...procs.map((p) => net.tail(p)), `--- ${UNIT} on the bare VM ---\n${unitLog().trimEnd().split('\n').slice(-15).join('\n')}`,
      `--- ${UNIT} on the client VM ---\n${existsSync(join(clientUnits(), `${UNIT}.log`)) ? readFileSync(join(clientUnits(), `${UNIT}.log`), 'utf8').trimEnd().split('\n').slice(-10).join('\n') : '(no log)'}`].join('\n');
  const { step } = orderedSteps();

  /** The packaged executable on the cluster host; its assets unpack under the test's dir. */
  const packaged = (args: string[]) => net.exec(cluster, EXE, args, { env: { OUTPOST_ASSET_DIR: join(work, 'assets-cluster') }, timeoutMs: 60_000 });
  const kubectl = (args: string[]) => net.exec(cluster, 'kubectl', ['--kubeconfig', join(dataDir, 'kubeconfig'), '--cache-dir', join(work, 'kube-cache'), ...args]);
  /** A command in a chroot of the bare VM, with a clean environment (nothing of this machine's PATH). */
  const inChroot = (cmd: string, args: string[], root = rootOf('root')) =>
    net.exec(bare, 'chroot', [root, '/usr/bin/env', '-i', `PATH=${VM_PATH}`, 'HOME=/root', `OUTPOST_E2E_UNITS=${UNITS_IN_ROOT}`, cmd, ...args], { timeoutMs: 60_000 });
  const proxyPid = () => Number(readFileSync(inRoot(`${UNITS_IN_ROOT}/${UNIT}.pid`), 'utf8'));
  const stateDir = () => (parseYaml(readFileSync(inRoot('/etc/outpost/proxy-config.yaml'), 'utf8')) as { identity: { dir: string } }).identity.dir;
  const ready = (vm: E2eHost, pid: () => number) =>
    eventually(`the proxy on ${vm.name} to be ready`, async () => {
      if (!existsSync(`/proc/${pid()}`)) assert.fail(`the proxy on ${vm.name} (pid ${pid()}) exited\n${logs()}`);
      const r = await net.exec(vm, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:4191/ready']);
      return r.stdout === '200' ? true : undefined;
    }, 40_000, logs);
  const callService = (path: string) =>
    net.exec(client, 'curl', ['-s', '-m', '5', '-w', '\n%{http_code}', '-x', 'http://127.0.0.1:4140', `http://${SERVICE}.${NS}.svc.cluster.local:8080${path}`]);

  before(async () => {
    // What the test runs is built by the test command: scripts/test.sh runs `npm run package` when
    // dist-package/ is stale, and so does this (a no-op when it is up to date).
    const built = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'package', 'build.ts'), '--if-stale'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 300_000 });
    assert.equal(built.status, 0, `npm run package failed:\n${built.stdout}`);
    version = spawnSync(EXE, ['--version'], { encoding: 'utf8', env: { ...process.env, OUTPOST_ASSET_DIR: join(tmpdir(), `outpost-assets-${process.pid}`) } }).stdout.trim();
    assert.match(version, /^outpost 0\.1\.0 \(commit [0-9a-f]+(-dirty)?\)$/);

    work = mkdtempSync(join(tmpdir(), 'outpost-bare-'));
    dataDir = join(work, 'cluster-data');
    vmBin = writeVmTools(work);
    net = createE2eNetwork(['bare', 'client'], work);
    ({ cluster } = net);
    [bare, client] = net.vms;
    const lower = (debian as { root: string }).root;
    for (const name of ['root', 'dpkg-root']) {
      const m = await net.exec(bare, 'sh', ['-c', MOUNT_ROOT, 'mount-root', join(work, 'disk-bare'), lower, name]);
      assert.equal(m.code, 0, `mounting the Debian root: ${m.stderr}`);
    }
    mkdirSync(inRoot('/usr/local/sbin'), { recursive: true });
    writeSystemctlStandIn(inRoot('/usr/local/sbin'));
    mkdirSync(inRoot(UNITS_IN_ROOT), { recursive: true });

    const cp = net.start(cluster, 'outpost up (packaged)', EXE, ['up', '--data-dir', dataDir, '--listen', cluster.address, '--api-port', '0', '--identity-port', '0',
      '--destination-port', '0', '--policy-port', '0', '--health-port', '0', '--admin-port', '0', '--viz-port', '0'], join(work, 'control-plane.log'), { OUTPOST_ASSET_DIR: join(work, 'assets-cluster') });
    procs.push(cp);
    await eventually('outpost up', async () => {
      if (cp.child.exitCode !== null) assert.fail(`outpost up exited with ${cp.child.exitCode}`);
      return readFileSync(cp.logFile, 'utf8').includes('Outpost control plane is up') ? true : undefined;
    }, 60_000, logs);
    // The workload on the bare VM: the test's app in its network namespace, on its loopback only.
    const app = `require('node:http').createServer((q, s) => s.end('payment-processor on the bare VM ' + q.url)).listen(8080, '127.0.0.1')`;
    procs.push(net.start(bare, 'app@bare', process.execPath, ['-e', app], join(work, 'app-bare.log')));
  }, { timeout: 200_000 });

  after(async () => {
    await net?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  step('the Debian root has no node, npm or compiler', async () => {
    const r = await inChroot('sh', ['-c', 'for t in node nodejs npm npx cc gcc g++ make python3; do command -v $t; done; exit 0']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '', `found on the bare VM: ${r.stdout}`);
    assert.ok(existsSync(inRoot('/etc/debian_version')));
  });

  step('the packaged `outpost workload onboard` puts the executable in the bundle by default', async () => {
    const ns = await kubectl(['create', 'namespace', NS]);
    assert.equal(ns.code, 0, ns.stderr);
    const applied = await kubectl(['apply', '-f', join(REPO_ROOT, 'test', 'fixtures', 'guide', 'payment-service.yaml')]);
    assert.equal(applied.code, 0, applied.stderr);
    const common = ['-n', NS, '--control-plane-host', cluster.address, '--data-dir', dataDir];
    const server = await packaged(['workload', 'onboard', SERVER, '--ip', bare.address, '--port', 'http:8080', '--label', `app=${SERVICE}`, ...common, '--out', join(work, 'server-bundle')]);
    assert.equal(server.code, 0, `onboard ${SERVER}: ${server.stderr}\n${server.stdout}`);
    assert.match(server.stdout, /Bundle written to .*install\.sh, outpost\n/);
    assert.ok(server.stdout.includes(`The bundle carries ${version}`), server.stdout);
    assert.equal(readFileSync(join(work, 'server-bundle', 'outpost')).length, readFileSync(EXE).length);
    // The client VM runs outpost from source (its proxy is not what this test is about): no executable.
    const clientBundle = await packaged(['workload', 'onboard', CLIENT, '--ip', client.address, '--label', 'app=checkout', '--with-binary=false', ...common, '--out', join(work, 'client-bundle')]);
    assert.equal(clientBundle.code, 0, `onboard ${CLIENT}: ${clientBundle.stderr}\n${clientBundle.stdout}`);
    assert.ok(!existsSync(join(work, 'client-bundle', 'outpost')));
  });

  step('install.sh on the bare VM installs /usr/bin/outpost, says which version runs, and starts the proxy as outpost-proxy', async () => {
    const cpBundle = await net.exec(bare, 'cp', ['-r', join(work, 'server-bundle'), join(rootOf('root'), 'root', 'outpost-bundle')]);
    assert.equal(cpBundle.code, 0, cpBundle.stderr);
    assert.ok(!existsSync(inRoot('/usr/bin/outpost')), 'the VM has no outpost before');
    const r = await inChroot('/root/outpost-bundle/install.sh', ['--capture']);
    assert.equal(r.code, 0, `install.sh: ${r.stderr}\n${r.stdout}\n${logs()}`);
    assert.ok(r.stdout.includes(`install.sh: installed /usr/bin/outpost (${version})\n`), r.stdout);
    assert.ok(r.stdout.includes(`install.sh: the proxy runs /usr/bin/outpost: ${version}\n`), r.stdout);
    assert.match(r.stdout, /outpost-proxy started/);
    await ready(bare, proxyPid);
    assert.match(readFileSync(`/proc/${proxyPid()}/status`, 'utf8'), /^Uid:\s+2102\s/m);
    assert.match(readFileSync(`/proc/${proxyPid()}/cmdline`, 'utf8'), /^\/usr\/bin\/outpost\0proxy\0/);
    // Another version on the VM: replaced (by a rename, so a running proxy keeps its file).
    const old = inRoot('/usr/bin/outpost.old-test');
    writeFileSync(old, '#!/bin/sh\necho "outpost 0.0.1 (commit old)"\n', { mode: 0o755 });
    renameSync(old, inRoot('/usr/bin/outpost'));
    const upgrade = await inChroot('/root/outpost-bundle/install.sh', ['--capture']);
    assert.equal(upgrade.code, 0, `install.sh over another version: ${upgrade.stderr}\n${upgrade.stdout}`);
    assert.ok(upgrade.stdout.includes(`install.sh: installed /usr/bin/outpost (${version}), replacing outpost 0.0.1 (commit old)\n`), upgrade.stdout);
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    assert.equal(sha(inRoot('/usr/bin/outpost')), sha(EXE));
    // Run again with the same version: nothing to install, the proxy restarts.
    const again = await inChroot('/root/outpost-bundle/install.sh', ['--capture']);
    assert.equal(again.code, 0, `install.sh again: ${again.stderr}\n${again.stdout}`);
    assert.doesNotMatch(again.stdout, /installed \/usr\/bin\/outpost/);
    assert.ok(again.stdout.includes(`the proxy runs /usr/bin/outpost: ${version}`), again.stdout);
    await ready(bare, proxyPid);
  });

  step("the client VM's app reaches the bare VM's app over mTLS", async () => {
    mkdirSync(clientUnits(), { recursive: true });
    const r = await net.exec(client, join(work, 'client-bundle', 'install.sh'), [], { env: { PATH: `${vmBin}:${process.env.PATH}`, OUTPOST_E2E_UNITS: clientUnits() }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `install.sh on the client: ${r.stderr}\n${r.stdout}`);
    await ready(client, () => Number(readFileSync(join(clientUnits(), `${UNIT}.pid`), 'utf8')));
    const res = await eventually('a 200 through both proxies', async () => {
      const out = await callService('/charge');
      return out.stdout.endsWith('\n200') ? out : undefined;
    }, 30_000, logs);
    assert.equal(res.stdout, 'payment-processor on the bare VM /charge\n200');
    const metrics = (await net.exec(bare, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;
    const inbound = metrics.split('\n').filter((l) => l.startsWith('request_total{') && l.includes('direction="inbound"'));
    assert.ok(inbound.some((l) => l.includes('tls="true"') && l.includes(`client_id="${CLIENT_ID}"`)), `bare VM inbound request_total with tls and client_id:\n${inbound.join('\n')}`);
    // What a user runs on the VM to see that all is well, with the installed executable.
    const check = await inChroot('outpost', ['check', '--proxy']);
    assert.equal(check.code, 0, `outpost check --proxy on the bare VM:\n${check.stdout}\n${check.stderr}`);
    assert.match(check.stdout, /proxy is ready/);
    assert.doesNotMatch(check.stdout, /×/);
  });

  step('captured egress from the bare VM to a host outside the mesh goes through the proxy, which read its original destination', async () => {
    // The embedded SO_ORIGINAL_DST addon tells the proxy where the app sent the connection.
    const server = `require('node:http').createServer((q, s) => s.end('outside the mesh ' + q.url)).listen(19099, '${cluster.address}')`;
    procs.push(net.start(cluster, 'plain server@cluster', process.execPath, ['-e', server], join(work, 'plain-server.log')));
    await eventually('the plain server', async () => ((await net.exec(cluster, 'curl', ['-sf', `http://${cluster.address}:19099/up`])).code === 0 ? true : undefined), 10_000, logs);
    const r = await net.exec(bare, 'curl', ['-s', '-m', '5', `http://${cluster.address}:19099/egress`]);
    assert.equal(r.stdout, 'outside the mesh /egress', `${r.stderr}\n${logs()}`);
    const metrics = (await net.exec(bare, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;
    const forwarded = metrics.split('\n').filter((l) => l.includes(`target_addr="${cluster.address}:19099"`));
    assert.ok(forwarded.some((l) => l.includes('no_tls_reason="not_provided_by_service_discovery"')), `the bare VM's proxy forwarded it:\n${forwarded.join('\n') || '(no metric with that target_addr)'}`);
  });

  step('the bare VM reboots (processes killed, token deleted): back with its persisted certificate', async () => {
    const certFile = inRoot(join(stateDir(), 'proxy.crt'));
    const before = readFileSync(certFile, 'utf8');
    assert.match(before, /BEGIN CERTIFICATE/);
    for (const pid of (await net.exec(bare, 'sh', ['-c', `for p in /proc/[0-9]*; do [ "$(readlink $p/root)" = "${rootOf('root')}" ] && echo \${p#/proc/}; done; true`])).stdout.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    await eventually('the proxy to be gone', async () => (existsSync(`/proc/${proxyPid()}`) ? undefined : true), 10_000, logs);
    const rm = await inChroot('rm', ['/etc/outpost/token']);
    assert.equal(rm.code, 0, rm.stderr);
    const restart = await inChroot('systemctl', ['restart', UNIT]);
    assert.equal(restart.code, 0, restart.stderr);
    await ready(bare, proxyPid);
    assert.equal(readFileSync(certFile, 'utf8'), before, 'the restarted proxy kept its certificate');
    assert.match(unitLog(), /using the persisted certificate/);
    const res = await eventually('traffic again', async () => {
      const out = await callService('/after-reboot');
      return out.stdout.endsWith('\n200') ? out : undefined;
    }, 30_000, logs);
    assert.equal(res.stdout, 'payment-processor on the bare VM /after-reboot\n200');
  });

  it('the .deb installs with dpkg on a bare Debian root: /usr/bin/outpost, the unit, the outpost-proxy user, no Node', async (t) => {
    if (!bare?.initPid) return t.skip('the VM was not set up');
    const info = spawnSync('dpkg-deb', ['--field', DEB, 'Depends'], { encoding: 'utf8' });
    assert.doesNotMatch(info.stdout, /node/i);
    const root = rootOf('dpkg-root');
    const cpDeb = await net.exec(bare, 'cp', [DEB, join(root, 'tmp', 'outpost.deb')]);
    assert.equal(cpDeb.code, 0, cpDeb.stderr);
    const r = await inChroot('dpkg', ['-i', '/tmp/outpost.deb'], root);
    assert.equal(r.code, 0, `dpkg -i: ${r.stderr}\n${r.stdout}`);
    const check = await inChroot('sh', ['-c', 'id -u outpost-proxy && /usr/bin/outpost --version && test -f /usr/lib/systemd/system/outpost-proxy.service && echo unit'], root);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout, `2102\n${version}\nunit\n`);
  });

  it('systemd-analyze verify accepts the bundle\'s unit and the package\'s unit', async (t) => {
    if (!work || !existsSync(join(work, 'server-bundle', UNIT))) return t.skip('no bundle was written');
    const dir = join(work, 'verify');
    mkdirSync(dir, { recursive: true });
    const extracted = join(dir, 'deb');
    assert.equal(spawnSync('dpkg-deb', ['-x', DEB, extracted]).status, 0);
    const units = {
      bundle: readFileSync(join(work, 'server-bundle', UNIT), 'utf8').replace('@OUTPOST_BIN@', '/usr/bin/outpost'),
      package: readFileSync(join(extracted, 'usr', 'lib', 'systemd', 'system', UNIT), 'utf8'),
    };
    for (const [which, text] of Object.entries(units)) {
      // systemd-analyze checks that ExecStart's program exists: the same executable, at this machine's path.
      const file = join(dir, which, UNIT);
      mkdirSync(join(dir, which), { recursive: true });
      writeFileSync(file, text.replace('ExecStart=/usr/bin/outpost ', `ExecStart=${EXE} `));
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${which} unit: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${which} unit: systemd-analyze warns`);
    }
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    assert.equal(sha(join(extracted, 'usr', 'bin', 'outpost')), sha(EXE), 'the .deb carries the same executable');
  });
});
