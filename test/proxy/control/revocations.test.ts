// The revocation TLS hooks (src/proxy/control/revocations.ts) on real TLS 1.3 sockets: inbound
// refuses a revoked client certificate (also on a resumed session) and closes open connections of a
// peer revoked later; outbound refuses a revoked server certificate and a revoked endpoint name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type PeerCertificate, type Server, type TLSSocket } from 'node:tls';
import { certificateIsRevoked } from '../../../src/core/workloads/revocation.js';
import { closeRevokedClients, refuseRevokedClient, revokedEndpointError, withRevocationCheck, REVOKED_PEER_CODE, type RevocationCheck } from '../../../src/proxy/control/revocation-check.js';
import { createTestPki, type TestPki } from '../../support/pki.js';

const ID = 'spiffe://cluster.local/ns/payments/sa/vm-sa';
const revoked = new Set<string>();
const check: RevocationCheck = {
  isRevokedPeer: (cert) => certificateIsRevoked(cert, revoked),
  isRevokedServerName: (name) => Boolean(name) && revoked.has(name!.toLowerCase()),
};

let pki: TestPki;
const leaves: Record<string, { cert: string; key: string }> = {};
let server: Server;
let port = 0;
const open = new Set<TLSSocket>();
let refusedCount = 0;

async function leaf(serverName: string) {
  const l = await pki.leaf({ identity: ID, serverName });
  return { cert: l.chainPem, key: l.keyPem };
}

/** Connects as `name`; resolves with what the server sent before the connection ended, and the TLS session. */
function talk(name: string, session?: Buffer): Promise<{ got: string; session?: Buffer; reused: boolean }> {
  return new Promise((resolve) => {
    let got = '';
    let ticket: Buffer | undefined;
    let reused = false;
    const s = connect({ host: '127.0.0.1', port, ca: pki.trustAnchorsPem, cert: leaves[name].cert, key: leaves[name].key, servername: 'server.payments.svc.cluster.local', session, minVersion: 'TLSv1.3' });
    s.on('session', (t) => (ticket = t));
    s.on('secureConnect', () => (reused = s.isSessionReused()));
    s.on('data', (d) => {
      got += d;
      s.write('bye');
    });
    s.on('error', () => {});
    s.on('close', () => resolve({ got, session: ticket, reused }));
  });
}

before(async () => {
  pki = await createTestPki({ lifetimeMs: 3_600_000 });
  for (const n of ['vm-1', 'vm-2', 'server']) leaves[n] = await leaf(`${n}.payments.svc.cluster.local`);
  server = createServer({ cert: leaves.server.cert, key: leaves.server.key, ca: pki.trustAnchorsPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (socket) => {
    socket.on('error', () => {});
    if (refuseRevokedClient(check, socket)) return void refusedCount++;
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.write('hello');
    // The client answers "bye" (then the server ends) or "hold" (kept open for the close test).
    socket.on('data', (d) => (String(d) === 'bye' ? socket.end() : undefined));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
after(() => {
  for (const s of open) s.destroy();
  server?.close();
});

test('inbound: a revoked client certificate is refused at once, also on a resumed session; others are served', async () => {
  revoked.clear();
  const first = await talk('vm-1');
  assert.equal(first.got, 'hello');
  revoked.add('vm-1.payments.svc.cluster.local');
  const again = await talk('vm-1', first.session);
  assert.equal(again.reused, true, 'the session was resumed');
  assert.equal(again.got, '', 'refused before any byte');
  assert.equal((await talk('vm-1')).got, '');
  assert.equal(refusedCount, 2);
  assert.equal((await talk('vm-2')).got, 'hello', 'another workload, same SPIFFE identity, is served');
});

test('inbound: connections open before the revocation are closed when the list changes', async () => {
  revoked.clear();
  let greeted!: () => void;
  const hello = new Promise<void>((r) => (greeted = r));
  const closed = new Promise<string>((resolve) => {
    let got = '';
    const s = connect({ host: '127.0.0.1', port, ca: pki.trustAnchorsPem, cert: leaves['vm-2'].cert, key: leaves['vm-2'].key, servername: 'server.payments.svc.cluster.local' });
    s.on('data', (d) => {
      got += d;
      s.write('hold');
      greeted();
    });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });
  await hello;
  // Only this connection stays open (the earlier ones said "bye").
  for (let i = 0; i < 200 && open.size !== 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(closeRevokedClients(check, open), 0, 'nothing revoked yet');
  revoked.add('vm-2.payments.svc.cluster.local');
  assert.equal(closeRevokedClients(check, open), 1);
  assert.equal(await closed, 'hello');
});

test('outbound: a revoked server certificate fails the handshake; a revoked endpoint name is refused before dialling', async () => {
  revoked.clear();
  const identityCheck = (_host: string, cert: PeerCertificate) => (String(cert.subjectaltname).includes(ID) ? undefined : new Error('wrong identity'));
  const dial = () =>
    new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, ca: pki.trustAnchorsPem, cert: leaves['vm-1'].cert, key: leaves['vm-1'].key, servername: 'server.payments.svc.cluster.local', checkServerIdentity: withRevocationCheck(identityCheck, check) });
      s.on('secureConnect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
    });
  assert.equal(await dial(), 'connected');
  revoked.add('server.payments.svc.cluster.local');
  assert.equal(await dial(), REVOKED_PEER_CODE);
  assert.equal(revokedEndpointError(check, 'SERVER.payments.svc.cluster.local')?.message, 'endpoint SERVER.payments.svc.cluster.local is revoked (outpost workload revoke)');
  assert.equal(revokedEndpointError(check, 'vm-2.payments.svc.cluster.local'), undefined);
  assert.equal(revokedEndpointError(undefined, 'server.payments.svc.cluster.local'), undefined);
  assert.equal(withRevocationCheck(identityCheck, undefined), identityCheck, 'no client: unchanged');
});
