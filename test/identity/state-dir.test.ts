// The proxy's identity state dir against a real identity service (real TLS): persisted credentials
// are bound to the workload they were issued for (a proxy configured as another workload refuses
// them and says why), the dir is locked while a proxy uses it, the bootstrap token is deleted after
// the first enrolment (and never sent again), and the default dir is never the working directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/core/log.js';
import { defaultStateDir, parseProxyConfig } from '../../src/proxy/config.js';
import { createControlPlaneIdentity } from '../../src/proxy/identity/source.js';
import { guideWorkload, startTestIdentityServer, type TestIdentityServer } from './fixtures.js';

let s: TestIdentityServer;
let work: string;

before(async () => {
  s = await startTestIdentityServer();
  s.directory.addServiceAccount('payments', 'payment-processor-sa', 'token-a');
  s.directory.addWorkload(guideWorkload());
  s.directory.addServiceAccount('payments', 'ledger-sa', 'token-b');
  s.directory.addWorkload({
    metadata: { name: 'ledger-vm', namespace: 'payments', annotations: { 'outpost.io/service-account': 'ledger-sa' } },
    spec: { meshTLS: { identity: 'spiffe://cluster.local/ledger', serverName: 'ledger-vm.payments.svc.cluster.local' } },
  });
  work = mkdtempSync(join(tmpdir(), 'outpost-statedir-'));
  writeFileSync(join(work, 'ca.crt'), s.material.trustAnchorsPem);
});
after(async () => {
  await s.close();
  rmSync(work, { recursive: true, force: true });
});

function proxyIdentity(name: string, dir: string, tokenFile: string) {
  const [host, port] = s.addr.split(':');
  const config = parseProxyConfig({
    identity: { trustAnchors: join(work, 'ca.crt'), tokenPath: tokenFile, endpoint: `${host}:${port}`, dir },
    destination: { endpoint: '127.0.0.1:1' },
    workload: { name, namespace: 'payments' },
  });
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  return { start: () => createControlPlaneIdentity(config, log), lines };
}

test('a proxy configured as another workload refuses the persisted credentials and says why, without touching them', async () => {
  const dir = join(work, 'shared');
  const a = proxyIdentity('payment-processor-vm-1', dir, join(work, 'a.token'));
  writeFileSync(join(work, 'a.token'), 'token-a\n');
  const first = await a.start();
  assert.equal(first.current()?.identity, 'spiffe://cluster.local/payment-processor');
  first.close();
  const certBefore = readFileSync(join(dir, 'proxy.crt'), 'utf8');

  // Started where payment-processor's key lies (the old $CWD/.outpost-proxy default), as ledger-vm, even with ledger's token.
  writeFileSync(join(work, 'b.token'), 'token-b\n');
  const b = proxyIdentity('ledger-vm', dir, join(work, 'b.token'));
  await assert.rejects(b.start(), (e: Error) => {
    assert.match(e.message, new RegExp(`identity.dir ${dir} holds the key and certificate of payments/payment-processor-vm-1 \\(spiffe://cluster.local/payment-processor\\), not of payments/ledger-vm: a proxy never presents another workload's identity; give this proxy its own identity.dir`));
    return true;
  });
  assert.equal(readFileSync(join(dir, 'proxy.crt'), 'utf8'), certBefore, 'the other workload\'s certificate is not overwritten');
  assert.ok(!b.lines.some((l) => /using the persisted certificate/.test(l)), b.lines.join('\n'));
  assert.ok(!existsSync(join(dir, 'proxy.lock')), 'the refused proxy released the lock');
});

test('credentials persisted without a binding record are used only once the identity service renews them for this workload', async () => {
  const dir = join(work, 'legacy');
  writeFileSync(join(work, 'l.token'), 'token-a\n');
  const a = proxyIdentity('payment-processor-vm-1', dir, join(work, 'l.token'));
  (await a.start()).close();
  rmSync(join(dir, 'binding.json')); // as a state dir written before bindings were recorded
  await assert.rejects(proxyIdentity('ledger-vm', dir, join(work, 'none')).start(), /is not known to belong to payments\/ledger-vm, and renewing it as payments\/ledger-vm failed/);
  const again = await proxyIdentity('payment-processor-vm-1', dir, join(work, 'none')).start();
  assert.equal(again.current()?.identity, 'spiffe://cluster.local/payment-processor');
  again.close();
  assert.equal(JSON.parse(readFileSync(join(dir, 'binding.json'), 'utf8')).workload, 'payments/payment-processor-vm-1');
});

test('a second proxy on a state dir in use fails with one clear line; the lock holds the pid and goes with the proxy', async () => {
  const dir = join(work, 'locked');
  writeFileSync(join(work, 'k.token'), 'token-a\n');
  const running = await proxyIdentity('payment-processor-vm-1', dir, join(work, 'k.token')).start();
  try {
    assert.equal(readFileSync(join(dir, 'proxy.lock'), 'utf8'), String(process.pid));
    await assert.rejects(proxyIdentity('payment-processor-vm-1', dir, join(work, 'k.token')).start(), (e: Error) => {
      assert.equal(e.message, `identity.dir ${dir} is in use by another proxy (pid ${process.pid}, ${join(dir, 'proxy.lock')}); give each proxy its own identity.dir`);
      return true;
    });
  } finally {
    running.close();
  }
  assert.ok(!existsSync(join(dir, 'proxy.lock')));
  // A lock left by a killed process (its pid no longer runs) is taken over.
  writeFileSync(join(dir, 'proxy.lock'), '2147483646');
  const next = await proxyIdentity('payment-processor-vm-1', dir, join(work, 'k.token')).start();
  next.close();
});

test('after the first enrolment the token file is deleted (logged); a restart works without it, and the same token is never sent again', async () => {
  const dir = join(work, 'token-once');
  const tokenFile = join(work, 'once.token');
  writeFileSync(tokenFile, 'token-a\n');
  const p = proxyIdentity('payment-processor-vm-1', dir, tokenFile);
  const first = await p.start();
  first.close();
  assert.ok(!existsSync(tokenFile), 'the bootstrap token file is gone');
  assert.ok(p.lines.some((l) => l.includes('deleted the bootstrap token file') && l.includes(tokenFile)), p.lines.join('\n'));
  assert.ok(!p.lines.some((l) => l.includes('token-a')), 'the token itself is never logged');
  const before = s.metrics.render();
  const restarted = await proxyIdentity('payment-processor-vm-1', dir, tokenFile).start();
  assert.equal(restarted.current()?.certPem, first.current()?.certPem, 'the persisted certificate, no token');
  restarted.close();
  assert.equal(s.metrics.render(), before, 'no call to the identity service');

  // An operator puts the used token back and the certificate is lost: the proxy does not send it again.
  writeFileSync(tokenFile, 'token-a\n');
  rmSync(join(dir, 'proxy.crt'));
  const q = proxyIdentity('payment-processor-vm-1', dir, tokenFile);
  await assert.rejects(q.start(), /has no certificate in .* and no bootstrap token; run `outpost workload onboard payment-processor-vm-1 -n payments --renew`/);
  assert.ok(q.lines.some((l) => l.includes('the bootstrap token already enrolled this workload')), q.lines.join('\n'));
});

test('the default state dir is per workload and never the working directory', () => {
  assert.equal(defaultStateDir('payments', 'vm-1', 0, '/home/x'), '/var/lib/outpost/proxy/payments/vm-1');
  assert.equal(defaultStateDir('payments', 'vm-1', 1000, '/home/x'), '/home/x/.outpost/proxy/payments/vm-1');
  const c = parseProxyConfig({ identity: { trustAnchors: '/ca.crt', tokenPath: '/t' }, destination: { endpoint: '127.0.0.1:1' }, workload: { name: 'vm-1', namespace: 'payments' } });
  assert.ok(!c.identity.dir.startsWith(process.cwd()), c.identity.dir);
  assert.ok(c.identity.dir === '/var/lib/outpost/proxy/payments/vm-1' || c.identity.dir === join(homedir(), '.outpost', 'proxy', 'payments', 'vm-1'), c.identity.dir);
});
