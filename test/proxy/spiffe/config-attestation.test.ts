// The proxy's spiffe.* settings (off by default, socket under /run/outpost/ for root, numeric uids
// only) and the attestation rule: the proxy's own uid and the listed uids, nobody else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseProxyConfig } from '../../../src/proxy/config.js';
import { attest } from '../../../src/proxy/spiffe/attestation.js';
import { isOutpostError } from '../../../src/core/errors.js';

const base = { identity: { trustAnchors: '/ca.crt', certFile: '/c.crt', keyFile: '/c.key', dir: '/var/lib/outpost/proxy' } };

test('the Workload API is off unless spiffe.enabled; its socket defaults to /run/outpost/spiffe.sock as root, else the identity dir', () => {
  const off = parseProxyConfig(base, {});
  assert.equal(off.spiffe.enabled, false);
  const on = parseProxyConfig({ ...base, spiffe: { enabled: true, allowedUids: [1000, '1001'] } }, {});
  assert.equal(on.spiffe.enabled, true);
  assert.deepEqual(on.spiffe.allowedUids, [1000, 1001]);
  assert.equal(on.spiffe.socketPath, process.getuid!() === 0 ? '/run/outpost/spiffe.sock' : join('/var/lib/outpost/proxy', 'spiffe.sock'));
  const env = parseProxyConfig(base, { OUTPOST_PROXY_SPIFFE_ENABLED: 'true', OUTPOST_PROXY_SPIFFE_SOCKET_PATH: '/tmp/w.sock', OUTPOST_PROXY_SPIFFE_ALLOWED_UIDS: '33,1000' });
  assert.deepEqual(env.spiffe, { enabled: true, socketPath: '/tmp/w.sock', allowedUids: [33, 1000] });
});

test('bad spiffe settings are refused naming the field', () => {
  const problem = (doc: Record<string, unknown>): string => {
    try {
      parseProxyConfig({ ...base, ...doc }, {});
    } catch (e) {
      assert.ok(isOutpostError(e));
      return e.message;
    }
    return assert.fail('accepted');
  };
  assert.match(problem({ spiffe: { enabled: true, allowedUids: ['www-data'] } }), /spiffe\.allowedUids: must be a list of numeric uids \(got \["www-data"\]\)/);
  assert.match(problem({ spiffe: { enabled: 'yes' } }), /spiffe\.enabled: must be true or false/);
  assert.match(problem({ spiffe: { allowedUids: [1000] } }), /spiffe\.allowedUids: set spiffe\.enabled: true/);
});

test('attestation: the proxy\'s own uid and the listed uids are served, any other uid and an unattested caller are not', () => {
  const policy = { ownUid: 998, allowedUids: [1000] };
  assert.deepEqual(attest({ pid: 1, uid: 998, gid: 998 }, policy), { allowed: true });
  assert.deepEqual(attest({ pid: 1, uid: 1000, gid: 5 }, policy), { allowed: true });
  const other = attest({ pid: 1, uid: 0, gid: 0 }, policy);
  assert.equal(other.allowed, false);
  assert.match((other as { reason: string }).reason, /uid 0 is not allowed/);
  assert.equal(attest(undefined, policy).allowed, false);
});
