// Table tests of the identity service's small pure helpers: rate limiting on a fake clock, peer
// addresses, token audiences, DER times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { createRateLimiter } from '../../src/core/rate-limit.js';
import { peerCertificateNames } from '../../src/identity/server.js';
import { claimedAudiences } from '../../src/identity/audience.js';
import { time } from '../../src/identity/der.js';

test('the token bucket allows a burst, then the refill rate, per caller', () => {
  const clock = new FakeClock();
  const limiter = createRateLimiter({ ratePerSecond: 2, burst: 3, clock });
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('10.0.0.1')), [true, true, true, false]);
  assert.equal(limiter.take('10.0.0.2'), true, 'another caller has its own bucket');
  clock.advance(499);
  assert.equal(limiter.take('10.0.0.1'), false);
  clock.advance(1);
  assert.equal(limiter.take('10.0.0.1'), true, 'one token after 500 ms at 2/s');
  assert.equal(createRateLimiter({ ratePerSecond: 0, burst: 0, clock }).take('x'), true, 'rate 0 disables the limit');
});


test('token audiences are read from the (unverified) claims, only to pick what TokenReview checks', () => {
  const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
  assert.deepEqual(claimedAudiences(jwt({ aud: 'identity.outpost.io' })), ['identity.outpost.io']);
  assert.deepEqual(claimedAudiences(jwt({ aud: ['a', 7, 'b'] })), ['a', 'b']);
  assert.deepEqual(claimedAudiences('not-a-jwt'), []);
});

test('a verified peer certificate yields its names unless expired by our clock', () => {
  const cert = { subjectaltname: 'URI:spiffe://cluster.local/x, DNS:x.ns.svc.cluster.local', valid_to: 'Jan  2 00:00:00 2030 GMT' };
  assert.deepEqual(peerCertificateNames(cert, Date.UTC(2029, 0, 1)), { identity: 'spiffe://cluster.local/x', serverName: 'x.ns.svc.cluster.local', publicKey: undefined });
  assert.equal(peerCertificateNames(cert, Date.UTC(2030, 0, 3)), undefined);
});

test('certificate times: UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280)', () => {
  assert.equal(time(Date.UTC(2026, 10, 25, 13, 5, 9)).subarray(2).toString(), '261125130509Z');
  assert.equal(time(Date.UTC(2026, 10, 25, 13, 5, 9)).at(0), 0x17);
  assert.equal(time(Date.UTC(2051, 0, 1)).subarray(2).toString(), '20510101000000Z');
  assert.equal(time(Date.UTC(2051, 0, 1)).at(0), 0x18);
});
