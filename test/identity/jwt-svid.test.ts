// JWT-SVIDs from the identity service over its mTLS renewal channel: the subject is the SPIFFE ID
// of the caller's verified certificate, the token validates with the published JWKS (and not after
// expiry, for another audience, or under another key), and a caller without a certificate is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { fetchJwtBundle, fetchJwtSvid } from '../../src/api/identity/jwt-call.js';
import { identityGrpcClient } from '../../src/api/identity/certify-call.js';
import { JwtSvidInvalid, signJwtSvid, validateJwtSvid } from '../../src/core/identity/jwt-svid.js';
import { jwtKeyPath, loadOrCreateJwtKey } from '../../src/identity/jwt-key.js';
import { startTestIdentityServer } from './fixtures.js';

test('the signing key is generated once in DATA_DIR/pki (0600) and kept across restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-jwt-key-'));
  try {
    const first = loadOrCreateJwtKey(dir);
    assert.equal(first.generated, true);
    assert.equal(statSync(jwtKeyPath(dir)).mode & 0o777, 0o600);
    const again = loadOrCreateJwtKey(dir);
    assert.equal(again.generated, false);
    assert.equal(again.key.kid, first.key.kid);
    const jwks = JSON.parse(again.key.jwksJson);
    assert.deepEqual(Object.keys(jwks.keys[0]).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(jwks.keys[0].use, 'jwt-svid');
    assert.equal(jwks.keys[0].d, undefined, 'no private part in the published set');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SignJwtSvid over mTLS: sub is the certificate\'s SPIFFE ID; the token validates with the JWKS for its audience only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-jwt-'));
  const key = loadOrCreateJwtKey(dir).key;
  const s = await startTestIdentityServer({ jwtKey: key });
  try {
    const cert = s.authority.issueServiceCertificate('destination', { listen: '127.0.0.1', lifetimeMs: 3_600_000, now: Date.now() });
    const conn = { addr: s.addr, trustAnchorsPem: s.material.trustAnchorsPem, clientCertificate: { keyPem: cert.keyPem, chainPem: cert.chainPem } };
    const r = await fetchJwtSvid(conn, ['payments', 'audit']);
    const leafUri = new X509Certificate(cert.certPem).subjectAltName!.split(', ').find((n) => n.startsWith('URI:'))!.slice(4);
    assert.equal(r.spiffeId, leafUri);
    assert.equal(r.bundle.trustDomain, 'cluster.local');
    assert.equal(r.bundle.jwksJson.toString(), key.jwksJson);
    const ok = validateJwtSvid(r.token, r.bundle.jwks, 'audit', Date.now());
    assert.equal(ok.spiffeId, leafUri);
    assert.equal((ok.claims.exp as number) - (ok.claims.iat as number), 300);
    assert.throws(() => validateJwtSvid(r.token, r.bundle.jwks, 'ledger', Date.now()), /audience ledger/);
    assert.throws(() => validateJwtSvid(r.token, r.bundle.jwks, 'audit', r.expiresAt + 1), /expired/);
    assert.deepEqual((await fetchJwtBundle(conn)).jwks, r.bundle.jwks);
    await assert.rejects(fetchJwtSvid(conn, []), (e: { grpcCode: number }) => e.grpcCode === grpc.status.INVALID_ARGUMENT);
    // Without a client certificate (a bootstrap-style TLS connection): refused, whatever is asked.
    const anonymous = identityGrpcClient({ addr: s.addr, trustAnchorsPem: s.material.trustAnchorsPem }) as unknown as Record<string, (req: object, cb: (e: grpc.ServiceError | null) => void) => void>;
    const code = await new Promise<number | undefined>((resolve) => anonymous.signJwtSvid.call(anonymous, { audience: ['payments'] }, (e) => resolve(e?.code)));
    (anonymous as unknown as grpc.Client).close();
    assert.equal(code, grpc.status.UNAUTHENTICATED);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a token signed by another key, or with another alg, does not validate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-jwt-'));
  try {
    const ours = loadOrCreateJwtKey(join(dir, 'a')).key;
    const theirs = loadOrCreateJwtKey(join(dir, 'b')).key;
    const bundle = JSON.parse(ours.jwksJson);
    const other = signJwtSvid(theirs.privateKey, theirs.kid, 'spiffe://cluster.local/x', ['a'], Date.now()).token;
    assert.throws(() => validateJwtSvid(other, bundle, 'a', Date.now()), (e: Error) => e instanceof JwtSvidInvalid && /no key/.test(e.message));
    const stolenKid = signJwtSvid(theirs.privateKey, ours.kid, 'spiffe://cluster.local/x', ['a'], Date.now()).token;
    assert.throws(() => validateJwtSvid(stolenKid, bundle, 'a', Date.now()), /bad signature/);
    const good = signJwtSvid(ours.privateKey, ours.kid, 'spiffe://cluster.local/x', ['a'], Date.now()).token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: ours.kid })).toString('base64url')}.${good[1]}.`;
    assert.throws(() => validateJwtSvid(none, bundle, 'a', Date.now()), /unsupported alg none/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
