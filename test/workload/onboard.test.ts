// `outpost workload onboard` against a real control plane: objects created (checked with real
// kubectl), re-run safe, bad input refused, and the bundle's token + ca.crt + config obtain a
// certificate from the identity service with `outpost identity certify`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, outpost, run, REPO_ROOT } from '../support/cli.js';
import { loadProxyConfig } from '../../src/proxy/config.js';
import { workloadInProcess } from './in-process.js';

/** `outpost ARGS` in this process (as main.ts runs it), to keep the suite fast; the first onboard and certify run the real CLI. */
/** `outpost ARGS` in this process, to keep the suite fast; the first onboard and certify run the real CLI. */
const inProcess = (args: string[]) => {
  assert.equal(args[0], 'workload');
  return workloadInProcess(args.slice(1));
};

describe('outpost workload onboard', () => {
  let cp: TestControlPlane;
  let work: string;
  before(async () => {
    cp = await startTestControlPlane();
    work = mkdtempSync(join(tmpdir(), 'outpost-onboard-'));
  });
  after(async () => {
    await cp?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const onboardArgs = (out: string, extra: string[] = []) => [
    'workload', 'onboard', 'payment-processor-vm-1', '-n', 'payments', '--ip', '127.0.0.50',
    '--port', 'http:8080', '--port', 'metrics:9090/TCP', '--label', 'app=payment-processor',
    '--service-account', 'payment-processor-sa', '--out', out, '--data-dir', cp.dataDir, ...extra,
  ];

  it('creates the ServiceAccount, the bound ExternalWorkload and a bundle; a re-run changes nothing', async () => {
    const out = join(work, 'bundle');
    const first = await outpost(onboardArgs(out));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /serviceaccount\s+payment-processor-sa created/);
    assert.match(first.stdout, /externalworkload\s+payment-processor-vm-1 created/);
    assert.match(first.stdout, /install\.sh --capture/);

    const sa = await kubectl(cp.kubeconfigPath, ['get', 'serviceaccount', 'payment-processor-sa', '-n', 'payments', '-o', 'name']);
    assert.equal(sa.stdout.trim(), 'serviceaccount/payment-processor-sa', sa.stderr);
    const ew = await kubectl(cp.kubeconfigPath, ['get', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments', '-o', 'json']);
    assert.equal(ew.code, 0, ew.stderr);
    const obj = JSON.parse(ew.stdout);
    assert.equal(obj.metadata.annotations['outpost.io/service-account'], 'payment-processor-sa');
    assert.equal(obj.metadata.labels.app, 'payment-processor');
    assert.deepEqual(obj.spec.workloadIPs, [{ ip: '127.0.0.50' }]);
    assert.deepEqual(obj.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`), ['http:8080', 'metrics:9090']);

    assert.equal(statSync(join(out, 'token')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'install.sh')).mode & 0o777, 0o755);
    const claims = JSON.parse(Buffer.from(readFileSync(join(out, 'token'), 'utf8').split('.')[1], 'base64url').toString());
    assert.ok([claims.aud].flat().includes('identity.outpost.io'), `audience ${claims.aud}`);
    assert.ok(claims.exp - claims.iat <= 3600, 'token lives at most 1h by default');
    // The config is the proxy's own format, with this control plane's real endpoints.
    const config = loadProxyConfig(join(out, 'proxy-config.yaml'), {});
    assert.equal(config.workload.name, 'payment-processor-vm-1');
    assert.equal(`${config.identity.endpoint!.host}:${config.identity.endpoint!.port}`, cp.info.listeners.identity);
    assert.equal(`${config.destination.endpoint!.host}:${config.destination.endpoint!.port}`, cp.info.listeners.destination);
    assert.equal(`${config.policy.endpoint!.host}:${config.policy.endpoint!.port}`, cp.info.listeners.policy);
    assert.match(readFileSync(join(out, 'outpost-proxy.service'), 'utf8'), /ExecStart=@OUTPOST_BIN@ proxy --config \/etc\/outpost\/proxy-config.yaml/);
    const syntax = await run('sh', ['-n', join(out, 'install.sh')]);
    assert.equal(syntax.code, 0, `install.sh is valid sh: ${syntax.stderr}`);
    assert.match(readFileSync(join(out, 'install.sh'), 'utf8'), /proxy-init --external-workload --proxy-uid [\s\S]* --inbound-ports 8080,9090/);

    const rv = obj.metadata.resourceVersion;
    const second = await inProcess(onboardArgs(out));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /serviceaccount\s+payment-processor-sa unchanged/);
    assert.match(second.stdout, /externalworkload\s+payment-processor-vm-1 unchanged/);
    const again = JSON.parse((await kubectl(cp.kubeconfigPath, ['get', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments', '-o', 'json'])).stdout);
    assert.equal(again.metadata.resourceVersion, rv, 're-run did not rewrite the workload');

    // A changed address updates in place and keeps what the user added.
    const label = await kubectl(cp.kubeconfigPath, ['label', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments', 'tier=backend']);
    assert.equal(label.code, 0, label.stderr);
    const moved = await inProcess(onboardArgs(out).map((a) => (a === '127.0.0.50' ? '127.0.0.51' : a)));
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /externalworkload\s+payment-processor-vm-1 updated/);
    const updated = JSON.parse((await kubectl(cp.kubeconfigPath, ['get', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments', '-o', 'json'])).stdout);
    assert.deepEqual(updated.spec.workloadIPs, [{ ip: '127.0.0.51' }]);
    assert.equal(updated.metadata.labels.tier, 'backend');
  });

  it("the bundle's token, ca.crt and config obtain a certificate for the workload's identity", async () => {
    const out = join(work, 'bundle-cert');
    const r = await inProcess(['workload', 'onboard', 'redis-cache', '-n', 'hybrid-app', '--ip', '127.0.0.60', '--port', 'redis:6379', '--out', out, '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const config = parseYaml(readFileSync(join(out, 'proxy-config.yaml'), 'utf8'));
    const certDir = join(work, 'certs');
    const certify = await outpost(['identity', 'certify', '--token', join(out, 'token'), '--workload', 'hybrid-app/redis-cache', '--trust-anchors', join(out, 'ca.crt'), '--out', certDir, '--identity-addr', config.identity.endpoint]);
    assert.equal(certify.code, 0, certify.stderr + certify.stdout);
    assert.match(certify.stdout, /identity\s+spiffe:\/\/cluster\.local\/ns\/hybrid-app\/sa\/redis-cache/);
    assert.match(readFileSync(join(certDir, 'proxy.crt'), 'utf8'), /BEGIN CERTIFICATE/);
  });

  it('--group joins a WorkloadGroup: the template gives the ports, the group the identity', async () => {
    for (const f of ['00-namespaces.yaml', 'workload-group.yaml']) {
      const applied = await kubectl(cp.kubeconfigPath, ['apply', '-f', join(REPO_ROOT, 'test', 'fixtures', 'guide', f)]);
      assert.equal(applied.code, 0, applied.stderr);
    }
    const out = join(work, 'bundle-group');
    const r = await inProcess(['workload', 'onboard', 'redis-vm-3', '-n', 'caching', '--ip', '127.0.0.70', '--group', 'redis-cache-fleet', '--out', out, '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const ew = JSON.parse((await kubectl(cp.kubeconfigPath, ['get', 'externalworkload', 'redis-vm-3', '-n', 'caching', '-o', 'json'])).stdout);
    assert.equal(ew.metadata.labels.workloadGroup, 'redis-cache-fleet');
    assert.equal(ew.spec.ports, undefined, 'ports come from the group template');
    const config = parseYaml(readFileSync(join(out, 'proxy-config.yaml'), 'utf8'));
    const certify = await outpost(['identity', 'certify', '--token', join(out, 'token'), '--workload', 'caching/redis-vm-3', '--trust-anchors', join(out, 'ca.crt'), '--out', join(work, 'certs-group'), '--identity-addr', config.identity.endpoint]);
    assert.equal(certify.code, 0, certify.stderr + certify.stdout);
    assert.match(certify.stdout, /identity\s+spiffe:\/\/cluster\.local\/redis-cache\b/);
  });

  it('--renew writes a fresh token for an existing workload, and refuses an unknown one', async () => {
    const out = join(work, 'bundle-renew');
    const r = await inProcess(['workload', 'onboard', 'redis-cache', '-n', 'hybrid-app', '--renew', '--out', out, '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(join(out, 'proxy-config.yaml'), 'utf8'), /name: redis-cache/);
    const missing = await inProcess(['workload', 'onboard', 'ghost', '-n', 'hybrid-app', '--renew', '--out', out, '--data-dir', cp.dataDir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--renew: ExternalWorkload hybrid-app\/ghost does not exist/);
  });

  it('bad input: one line naming the flag and the reason, non-zero exit, nothing created', async () => {
    const cases: [string[], RegExp][] = [
      [['vm-1', '-n', 'payments', '--port', 'http:80'], /--ip: the address .* is required/],
      [['vm-1', '-n', 'payments', '--ip', '10.0.0.300', '--port', 'http:80'], /--ip: "10\.0\.0\.300" is not an IP address/],
      [['vm-1', '-n', 'payments', '--ip', '127.0.0.9', '--port', 'http'], /--port: expected name:port/],
      [['vm-1', '-n', 'payments', '--ip', '127.0.0.9', '--port', 'http:70000'], /--port: port 70000 is out of range/],
      [['VM_1', '-n', 'payments', '--ip', '127.0.0.9', '--port', 'http:80'], /--name: "VM_1" must be a lower-case DNS name/],
      [['vm-1', '-n', 'payments', '--ip', '127.0.0.9', '--port', 'http:80', '--group', 'nope'], /--group: WorkloadGroup payments\/nope does not exist/],
      [['vm-1', '-n', 'payments', '--ip', '127.0.0.9', '--port', 'http:80', '--token-duration', '1m'], /--token-duration: must be at least 10m/],
    ];
    for (const [args, message] of cases) {
      const r = await inProcess(['workload', 'onboard', ...args, '--out', join(work, 'bad'), '--data-dir', cp.dataDir]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
    // A kubeconfig the API refuses, and an API that is not there: one line each.
    const original = readFileSync(cp.kubeconfigPath, 'utf8');
    const badToken = join(work, 'bad-token.kubeconfig');
    writeFileSync(badToken, original.replace(/token: .*/, 'token: not-the-admin-token'));
    const noApi = join(work, 'no-api.kubeconfig');
    writeFileSync(noApi, original.replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1'));
    for (const [kubeconfig, message] of [[badToken, /the API refused the kubeconfig's credentials \(HTTP 401\)/], [noApi, /cannot read namespace payments at https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/]] as const) {
      const r = await inProcess(['workload', 'onboard', 'vm-1', '-n', 'payments', '--ip', '127.0.0.9', '--port', 'http:80', '--out', join(work, 'bad'), '--kubeconfig', kubeconfig]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
    const none = await kubectl(cp.kubeconfigPath, ['get', 'externalworkload', 'vm-1', '-n', 'payments']);
    assert.notEqual(none.code, 0, 'no workload was created by bad input');
  });
});
