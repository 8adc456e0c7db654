// The proxy's identity client: bootstrap once with a token, persist key and certificate (0600),
// renew at 70 % of the lifetime over mTLS, back off with jitter on failure (fake clock), and come
// back after a restart with no token as long as the persisted certificate is valid.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/core/clock.js';
import { isOutpostError } from '../../src/core/errors.js';
import { WorkloadIdentityClient, type IdentityClientOptions } from '../../src/proxy/identity/client.js';
import type { Credentials } from '../../src/proxy/types.js';
import { guideWorkload, startTestIdentityServer, type TestIdentityServer } from './fixtures.js';

const HOUR = 3_600_000;
let s: TestIdentityServer;
let dir: string;

before(async () => {
  s = await startTestIdentityServer();
  s.directory.addServiceAccount('payments', 'payment-processor-sa', 'good-token');
  s.directory.addWorkload(guideWorkload());
  dir = mkdtempSync(join(tmpdir(), 'outpost-idclient-'));
});
after(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(over: Partial<IdentityClientOptions> = {}): WorkloadIdentityClient {
  return new WorkloadIdentityClient({
    identityAddr: s.addr,
    trustAnchorsPem: s.material.trustAnchorsPem,
    workload: { namespace: 'payments', name: 'payment-processor-vm-1' },
    ...over,
  });
}

function nextCredentials(c: WorkloadIdentityClient): Promise<Credentials> {
  return new Promise((resolve) => {
    const off = c.subscribe((creds) => (off(), resolve(creds)));
  });
}

function nextOutcome(): { promise: Promise<{ ok: boolean; retryInMs?: number }>; hook: IdentityClientOptions['onRenewal'] } {
  let resolve!: (o: { ok: boolean; retryInMs?: number }) => void;
  const promise = new Promise<{ ok: boolean; retryInMs?: number }>((r) => (resolve = r));
  return { promise, hook: (o) => resolve(o.ok ? { ok: true } : { ok: false, retryInMs: o.retryInMs }) };
}

test('bootstrap learns the identity, persists key and certificate 0600, and renews at 70 % of the lifetime', async () => {
  const clock = new FakeClock(Date.now());
  let outcome = nextOutcome();
  const c = client({ stateDir: dir, token: () => 'good-token', clock, random: () => 0, onRenewal: (o) => outcome.hook!(o) });
  try {
    const first = await c.start();
    assert.equal(first.identity, 'spiffe://cluster.local/payment-processor');
    assert.equal(first.serverName, 'payment-processor-vm-1.payments.svc.cluster.local');
    for (const f of ['proxy.key', 'proxy.crt']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);

    // Just before 70 % nothing happens; at 70 % the client renews by certificate and tells subscribers.
    clock.advance(0.7 * 24 * HOUR - 60_000);
    assert.equal(c.current(), first);
    const changed = nextCredentials(c);
    clock.advance(60_000);
    const renewed = await changed;
    assert.ok((await outcome.promise).ok);
    assert.notEqual(renewed.certPem, first.certPem);
    assert.equal(renewed.keyPem, first.keyPem);
    assert.match(s.metrics.render(), /identity_cert_issued_total\{kind="renewal"\} 1/);

    // A failing renewal (workload deleted) is retried with jittered exponential backoff: 0.5 s, then 1 s.
    const ew = s.directory.workloads.get('payments/payment-processor-vm-1')!;
    s.directory.workloads.delete('payments/payment-processor-vm-1');
    outcome = nextOutcome();
    // The next renewal is due at 70 % of the renewed certificate's lifetime, counted from its
    // notBefore, which the service sets on the real clock: move the fake clock to that moment
    // (however long the real steps above took), not by a fixed step.
    const notBefore = Date.parse(new X509Certificate(renewed.certPem).validFrom);
    clock.advance(Math.max(1, Math.ceil(notBefore + 0.7 * (renewed.notAfter - notBefore) - clock.now()) + 1000));
    assert.deepEqual(await outcome.promise, { ok: false, retryInMs: 500 });
    outcome = nextOutcome();
    clock.advance(500);
    assert.deepEqual(await outcome.promise, { ok: false, retryInMs: 1000 });
    s.directory.addWorkload(ew);
    outcome = nextOutcome();
    clock.advance(999);
    clock.advance(1);
    assert.deepEqual(await outcome.promise, { ok: true });
  } finally {
    c.close();
  }
});

test('a restarted client with a valid persisted certificate needs no token and makes no call', async () => {
  const before = s.metrics.render();
  const c = client({ stateDir: dir, token: () => undefined });
  try {
    const creds = await c.start();
    assert.equal(creds.identity, 'spiffe://cluster.local/payment-processor');
    assert.equal(s.metrics.render(), before);
  } finally {
    c.close();
  }
});

test('an expired persisted certificate without a token says how to re-enrol, without a stack trace', async () => {
  const c = client({ stateDir: dir, token: () => undefined, clock: new FakeClock(Date.now() + 25 * HOUR) });
  await assert.rejects(c.start(), (e: unknown) => {
    assert.ok(isOutpostError(e));
    assert.equal(e.code, 'CERTIFICATE_EXPIRED');
    assert.match(e.toLine(), /expired at .* and there is no usable bootstrap token; run `outpost workload onboard payment-processor-vm-1 -n payments --renew`/);
    assert.doesNotMatch(e.toLine(), /\n\s+at /);
    return true;
  });
  c.close();
});

test('no certificate and no token is reported plainly', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'outpost-idclient-empty-'));
  try {
    await assert.rejects(client({ stateDir: empty }).start(), /has no certificate in .* and no bootstrap token; run `outpost workload onboard payment-processor-vm-1 -n payments --renew`/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('an expired persisted certificate with a rejected (old) token says how to re-enrol', async () => {
  const c = client({ stateDir: dir, token: () => 'old-expired-token', clock: new FakeClock(Date.now() + 25 * HOUR) });
  await assert.rejects(c.start(), (e: unknown) => {
    assert.ok(isOutpostError(e));
    assert.equal(e.code, 'CERTIFICATE_EXPIRED');
    assert.match(e.message, /expired at .* and the bootstrap token is no longer usable \(the token was rejected.*\); run `outpost workload onboard payment-processor-vm-1 -n payments --renew`/);
    return true;
  });
  c.close();
});

test('the proxy hook builds the client from the proxy configuration (token file read only when needed)', async () => {
  const { createControlPlaneIdentity } = await import('../../src/proxy/identity/source.js');
  const { writeFileSync } = await import('node:fs');
  const { silentLogger } = await import('../../src/core/log.js');
  const work = mkdtempSync(join(tmpdir(), 'outpost-idsource-'));
  try {
    writeFileSync(join(work, 'ca.crt'), s.material.trustAnchorsPem);
    writeFileSync(join(work, 'bootstrap-token.txt'), 'good-token\n');
    const [host, port] = s.addr.split(':');
    const config = {
      identity: { trustAnchors: join(work, 'ca.crt'), tokenPath: join(work, 'bootstrap-token.txt'), endpoint: { host, port: Number(port) }, dir: join(work, 'state'), mode: 'controlPlane', reloadIntervalMs: 1000 },
      workload: { name: 'payment-processor-vm-1', namespace: 'payments' },
    } as unknown as Parameters<typeof createControlPlaneIdentity>[0];
    const source = await createControlPlaneIdentity(config, silentLogger);
    assert.equal(source.current()?.identity, 'spiffe://cluster.local/payment-processor');
    source.close();
    assert.ok(!existsSync(join(work, 'bootstrap-token.txt')), 'the bootstrap token file is deleted after the enrolment');
    const again = await createControlPlaneIdentity(config, silentLogger);
    assert.equal(again.current()?.certPem, source.current()?.certPem, 'restarted without the token file: the persisted certificate');
    again.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
