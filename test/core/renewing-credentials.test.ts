// Control-plane services keep serving across their own certificate's expiry and a trust-anchor
// rotation: a real grpc-js server on renewingServerCredentials, observed by real TLS handshakes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { createTestPki, spiffeIdOf, type TestPki } from '../support/pki.js';
import { renewingServerCredentials, type RenewingCredentials } from '../../src/core/tls/renewing-credentials.js';
import type { IdentityAuthority } from '../../src/core/component.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';

const LIFETIME_MS = 3_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Ca = TestPki;
const ca = (name: string) => createTestPki({ name, lifetimeMs: 3_600_000 });

let current: Ca;
let issued = 0;
const identity: IdentityAuthority = {
  trustDomain: 'cluster.local',
  trustAnchorsPem: () => current.trustAnchorsPem,
  async issueServiceCertificate(service) {
    issued++;
    const leaf = await current.leaf({ commonName: service, identity: spiffeIdOf('outpost', `outpost-${service}`), dns: ['localhost'], lifetimeMs: LIFETIME_MS });
    return { certPem: leaf.certPem, keyPem: leaf.keyPem, chainPem: leaf.chainPem };
  },
};

let server: grpc.Server;
let creds: RenewingCredentials;
let port: number;

before(async () => {
  current = await ca('first');
  creds = await renewingServerCredentials(identity, 'destination', { clock: systemClock, log: silentLogger, anchorCheckMs: 100 });
  server = new grpc.Server();
  port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds.credentials, (e, p) => (e ? reject(e) : resolve(p))));
});

after(() => {
  creds?.stop();
  server?.forceShutdown();
});

/** A TLS handshake as a proxy makes it (client certificate of `client`, server checked against `trusting`). */
async function handshake(client: Ca, trusting: Ca): Promise<{ serial: string; validTo: number } | { error: string }> {
  const leaf = await client.leaf({ commonName: 'proxy', identity: spiffeIdOf('payments', 'web'), lifetimeMs: 60_000 });
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: trusting.trustAnchorsPem, cert: leaf.chainPem, key: leaf.keyPem, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined });
    s.once('secureConnect', () => {
      const peer = s.getPeerCertificate();
      // TLS 1.3: the server's verdict on our certificate arrives after the handshake.
      setTimeout(() => {
        resolve(s.destroyed ? { error: 'closed by the server' } : { serial: peer.serialNumber, validTo: Date.parse(peer.valid_to) });
        s.destroy();
      }, 150);
    });
    s.once('error', (e) => resolve({ error: e.message }));
  });
}

test('the service certificate is re-issued before it expires: later handshakes see a new, valid one', async () => {
  const first = await handshake(current, current);
  assert.ok('serial' in first, JSON.stringify(first));
  await sleep(LIFETIME_MS * 0.8);
  const second = await handshake(current, current);
  assert.ok('serial' in second, JSON.stringify(second));
  assert.notEqual(second.serial, first.serial, 'a new certificate');
  assert.ok(second.validTo > first.validTo);
  await sleep(LIFETIME_MS * 0.8);
  const third = await handshake(current, current);
  assert.ok('serial' in third && third.validTo > Date.now(), `still valid after the first certificate expired: ${JSON.stringify(third)}`);
});

test('after a trust-anchor rotation the server presents a certificate of the new CA and checks clients against it', async () => {
  const old = current;
  current = await ca('second');
  const before = issued;
  await sleep(400);
  assert.ok(issued > before, 're-issued on the anchor change');
  assert.ok('serial' in (await handshake(current, current)), 'a client of the new CA is served');
  const stale = await handshake(old, old);
  assert.ok('error' in stale, `the old CA is neither presented nor trusted: ${JSON.stringify(stale)}`);
});
