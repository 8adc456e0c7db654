// `outpost workload onboard --group G -n NS` (no NAME) against a real control plane: the group is
// bound to a ServiceAccount (checked with real kubectl), one bundle for every VM whose token and
// ca.crt auto-register a member with the identity service, re-run safe, bad input refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, outpost, REPO_ROOT } from '../support/cli.js';
import { parseProxyConfig } from '../../src/proxy/config.js';
import { WorkloadIdentityClient } from '../../src/proxy/identity/client.js';
import { workloadInProcess as inProcess } from './in-process.js';
import { ADDRESS_PLACEHOLDER } from '../../src/workload/bundle.js';

describe('outpost workload onboard --group G (a bundle for every VM of the group)', () => {
  let cp: TestControlPlane;
  let work: string;
  const k = async (args: string[]) => {
    const r = await kubectl(cp.kubeconfigPath, args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const binding = () => k(['get', 'workloadgroup', 'redis-cache-fleet', '-n', 'caching', '-o', 'jsonpath={.metadata.annotations.outpost\\.io/service-account}']);

  before(async () => {
    cp = await startTestControlPlane();
    work = mkdtempSync(join(tmpdir(), 'outpost-onboard-group-'));
  });
  after(async () => {
    await cp?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('refuses a group that does not exist, and per-workload flags, with one line naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--group', 'redis-cache-fleet', '-n', 'caching'], /--group: WorkloadGroup caching\/redis-cache-fleet does not exist \(create it first/],
      [['--group', 'redis-cache-fleet'], /--namespace: the namespace is required/],
      [['--group', 'Redis', '-n', 'caching'], /--group: "Redis" must be a lower-case DNS label/],
      [['--group', 'redis-cache-fleet', '-n', 'caching', '--ip', '127.0.0.9'], /--ip: describes one workload/],
      [['--group', 'redis-cache-fleet', '-n', 'caching', '--port', 'redis:6379'], /--port: describes one workload/],
      [['--group', 'redis-cache-fleet', '-n', 'caching', '--token-duration', '1m'], /--token-duration: must be at least 10m/],
      [['-n', 'caching'], /--name: the workload name is required .* or --group G without NAME/],
    ];
    for (const [args, message] of cases) {
      const r = await inProcess(['onboard', ...args, '--out', join(work, 'bad'), '--data-dir', cp.dataDir]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
    assert.equal(existsSync(join(work, 'bad')), false, 'no bundle written for bad input');
  });

  it('binds the group to a new ServiceAccount and writes one bundle for every VM; a re-run keeps the binding', async () => {
    for (const f of ['00-namespaces.yaml', 'workload-group.yaml']) await k(['apply', '-f', join(REPO_ROOT, 'test', 'fixtures', 'guide', f)]);
    const out = join(work, 'fleet-bundle');
    const first = await outpost(['workload', 'onboard', '--group', 'redis-cache-fleet', '-n', 'caching', '--out', out, '--data-dir', cp.dataDir, '--control-plane-host', '127.0.0.1']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /serviceaccount\s+redis-cache-fleet created/);
    assert.match(first.stdout, /workloadgroup\s+redis-cache-fleet bound to serviceaccount redis-cache-fleet: created/);
    assert.match(first.stdout, /On EVERY VM of the group/);
    assert.match(first.stdout, /ssh root@VM \/tmp\/outpost-bundle\/install\.sh --capture/);
    assert.equal(await binding(), 'redis-cache-fleet');
    assert.equal((await k(['get', 'serviceaccount', 'redis-cache-fleet', '-n', 'caching', '-o', 'name'])).trim(), 'serviceaccount/redis-cache-fleet');
    assert.equal((await k(['get', 'externalworkloads', '-n', 'caching', '-o', 'name'])).trim(), '', 'no workload is created before a VM registers');

    for (const f of ['ca.crt', 'token', 'proxy-config.yaml', 'outpost-proxy.service', 'install.sh']) assert.ok(existsSync(join(out, f)), `bundle has ${f}`);
    assert.equal(statSync(join(out, 'token')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'install.sh')).mode & 0o777, 0o755);
    const claims = JSON.parse(Buffer.from(readFileSync(join(out, 'token'), 'utf8').split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, 'system:serviceaccount:caching:redis-cache-fleet');
    const raw = parseYaml(readFileSync(join(out, 'proxy-config.yaml'), 'utf8'));
    assert.deepEqual(raw.workload, { namespace: 'caching', group: 'redis-cache-fleet', address: ADDRESS_PLACEHOLDER });
    // What install.sh writes on a VM is a valid proxy configuration for a group member.
    const installed = parseProxyConfig(parseYaml(readFileSync(join(out, 'proxy-config.yaml'), 'utf8').replaceAll(ADDRESS_PLACEHOLDER, '127.0.0.71')));
    assert.deepEqual(installed.workload, { name: undefined, namespace: 'caching', group: 'redis-cache-fleet', address: '127.0.0.71', kind: 'ExternalWorkload' });
    const install = readFileSync(join(out, 'install.sh'), 'utf8');
    assert.match(install, /ip route get "\$ROUTE_TO"/);
    assert.match(install, /--inbound-ports 6379,26379/, 'capture covers the group template ports');

    const again = await inProcess(['onboard', '--group', 'redis-cache-fleet', '-n', 'caching', '--out', out, '--data-dir', cp.dataDir]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /serviceaccount\s+redis-cache-fleet unchanged/);
    assert.match(again.stdout, /bound to serviceaccount redis-cache-fleet: unchanged/);
  });

  it("the bundle's token and ca.crt auto-register two VMs as members of the group", async () => {
    const out = join(work, 'fleet-bundle');
    const config = parseYaml(readFileSync(join(out, 'proxy-config.yaml'), 'utf8'));
    const token = readFileSync(join(out, 'token'), 'utf8').trim();
    for (const address of ['127.0.0.71', '127.0.0.72']) {
      const client = new WorkloadIdentityClient({
        identityAddr: config.identity.endpoint,
        trustAnchorsPem: readFileSync(join(out, 'ca.crt'), 'utf8'),
        workload: { namespace: 'caching', group: 'redis-cache-fleet', address },
        token: () => token,
      });
      try {
        const creds = await client.start();
        assert.equal(creds.identity, 'spiffe://cluster.local/redis-cache', 'the group template gives the identity');
        assert.deepEqual(client.workload(), { namespace: 'caching', name: `redis-cache-fleet-${address.replaceAll('.', '-')}` });
      } finally {
        client.close();
      }
    }
    const members = JSON.parse(await k(['get', 'externalworkloads', '-n', 'caching', '-l', 'workloadGroup=redis-cache-fleet', '-o', 'json'])).items;
    assert.deepEqual(members.map((m: { spec: { workloadIPs: { ip: string }[] } }) => m.spec.workloadIPs[0].ip).sort(), ['127.0.0.71', '127.0.0.72']);
  });

  it('--binary PATH puts that executable in the group bundle (from source there is none by default)', async () => {
    const out = join(work, 'fleet-binary');
    const plain = await inProcess(['onboard', '--group', 'redis-cache-fleet', '-n', 'caching', '--out', out, '--data-dir', cp.dataDir]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /No executable in the bundle \(--with-binary or --binary PATH adds one\)/);
    assert.equal(existsSync(join(out, 'outpost')), false);
    // A stand-in for dist-package/outpost: prints an outpost version, and is as large as an executable.
    const fake = join(work, 'fake-outpost');
    writeFileSync(fake, `#!/bin/sh\necho "outpost 0.0.0 (commit fake)"\nexit 0\n#${'x'.repeat(1024 * 1024)}\n`, { mode: 0o755 });
    const r = await inProcess(['onboard', '--group', 'redis-cache-fleet', '-n', 'caching', '--out', out, '--data-dir', cp.dataDir, '--binary', fake]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Bundle written to .*install\.sh, outpost\n/);
    assert.match(r.stdout, /The bundle carries outpost 0\.0\.0 \(commit fake\); install\.sh installs it as \/usr\/bin\/outpost/);
    assert.deepEqual(readFileSync(join(out, 'outpost')), readFileSync(fake));
    assert.equal(statSync(join(out, 'outpost')).mode & 0o777, 0o755);
  });

  it('--service-account rebinds the group and says which ServiceAccount it replaced', async () => {
    const r = await inProcess(['onboard', '--group', 'redis-cache-fleet', '-n', 'caching', '--service-account', 'redis-sa', '--out', join(work, 'fleet-2'), '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /serviceaccount\s+redis-sa created/);
    assert.match(r.stdout, /bound to serviceaccount redis-sa: updated \(was redis-cache-fleet\)/);
    assert.equal(await binding(), 'redis-sa');
  });
});
