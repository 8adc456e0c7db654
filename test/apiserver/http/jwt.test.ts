// Table tests for the ES256 JWT signer/verifier and ServiceAccount token review rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { audiencesOf, signJwt, verifyJwt } from '../../../src/apiserver/auth/jwt.js';
import { DEFAULT_AUDIENCE, ServiceAccountTokens } from '../../../src/apiserver/auth/serviceaccount-tokens.js';
import { FakeClock } from '../../../src/core/clock.js';
import type { KubeObject } from '../../../src/store/types.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKey = createPublicKey(privateKey);
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const NOW = 1_800_000_000;

test('verifyJwt: table', () => {
  const good = signJwt({ sub: 'x', exp: NOW + 100, nbf: NOW - 1 }, privateKey);
  const [h, p, s] = good.split('.');
  const cases: { name: string; token: string; now?: number; ok: boolean; reason?: RegExp }[] = [
    { name: 'valid', token: good, ok: true },
    { name: 'expired', token: good, now: NOW + 101, ok: false, reason: /expired/ },
    { name: 'not yet valid', token: signJwt({ exp: NOW + 100, nbf: NOW + 50 }, privateKey), ok: false, reason: /not valid yet/ },
    { name: 'other key', token: signJwt({ exp: NOW + 100 }, other), ok: false, reason: /signature/ },
    { name: 'payload swapped', token: `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', exp: NOW + 100 })).toString('base64url')}.${s}`, ok: false, reason: /signature/ },
    { name: 'alg none', token: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`, ok: false, reason: /algorithm/ },
    { name: 'two parts', token: `${h}.${p}`, ok: false, reason: /not a JWT/ },
    { name: 'garbage', token: 'a.b.c', ok: false },
    { name: 'no exp', token: signJwt({ sub: 'x' }, privateKey), ok: false, reason: /expiry/ },
  ];
  for (const c of cases) {
    const r = verifyJwt(c.token, publicKey, c.now ?? NOW);
    assert.equal(r.ok, c.ok, c.name);
    if (!r.ok && c.reason) assert.match(r.reason, c.reason, c.name);
  }
});

test('audiencesOf accepts a string or a list', () => {
  assert.deepEqual(audiencesOf({ aud: 'a' }), ['a']);
  assert.deepEqual(audiencesOf({ aud: ['a', 'b'] }), ['a', 'b']);
  assert.deepEqual(audiencesOf({}), []);
});

test('ServiceAccount tokens: claims, audience, expiry, revocation by uid', () => {
  const clock = new FakeClock(NOW * 1000);
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const tokens = new ServiceAccountTokens(pem, clock);
  const sa: KubeObject = { metadata: { name: 'sa1', namespace: 'ns', uid: 'uid-1' } };
  let live: KubeObject | undefined = sa;
  const lookup = () => live;
  const issued = tokens.issue(sa, { expirationSeconds: 3600, audiences: ['identity.outpost'] });
  assert.equal(issued.expirationTimestamp, new Date((NOW + 3600) * 1000).toISOString().replace('.000Z', 'Z'));
  const claims = JSON.parse(Buffer.from(issued.token.split('.')[1], 'base64url').toString());
  assert.equal(claims.sub, 'system:serviceaccount:ns:sa1');
  assert.deepEqual(claims['kubernetes.io'], { namespace: 'ns', serviceaccount: { name: 'sa1', uid: 'uid-1' } });
  assert.equal(claims.exp - claims.iat, 3600);

  const ok = tokens.review(issued.token, ['identity.outpost', 'other'], lookup);
  assert.ok(ok.authenticated);
  assert.deepEqual(ok.authenticated && ok.audiences, ['identity.outpost']);
  assert.equal(ok.authenticated && ok.user.username, 'system:serviceaccount:ns:sa1');

  const wrongAudience = tokens.review(issued.token, [], lookup);
  assert.ok(!wrongAudience.authenticated && /audiences/.test(wrongAudience.error));
  const defaultToken = tokens.issue(sa, {});
  assert.ok(tokens.review(defaultToken.token, [DEFAULT_AUDIENCE], lookup).authenticated);

  live = { metadata: { name: 'sa1', namespace: 'ns', uid: 'uid-2' } };
  const recreated = tokens.review(issued.token, ['identity.outpost'], lookup);
  assert.ok(!recreated.authenticated && /UID/.test(recreated.error));
  live = undefined;
  const deleted = tokens.review(issued.token, ['identity.outpost'], lookup);
  assert.ok(!deleted.authenticated && /deleted/.test(deleted.error));

  live = sa;
  clock.advance(3600_000 + 61_000);
  const expired = tokens.review(issued.token, ['identity.outpost'], lookup);
  assert.ok(!expired.authenticated && /expired/.test(expired.error));
});
