// The Workload API server on its own: a rotation reaches an open FetchX509SVID stream at once, and a
// proxy that hands its socket path to a successor (restart by handover) does not delete the
// successor's socket when it closes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../../src/core/log.js';
import { startSpiffeWorkloadApi, type CredentialsFeed } from '../../../src/proxy/spiffe/server.js';
import { serviceDefinition } from '../../../src/api/load.js';
import type { X509SVIDResponse__Output as X509SvidResponseMessage } from '../../../src/api/gen/spiffe-workload.js';
import type { Credentials } from '../../../src/proxy/types.js';
import { createMesh } from '../mesh.js';

const mesh = await createMesh();
after(() => mesh.cleanup());

async function credentials(name: string): Promise<Credentials> {
  const f = await mesh.issue(name, 'payments', 'api');
  return { identity: f.identity, serverName: f.serverName, certPem: readFileSync(f.certFile, 'utf8'), keyPem: readFileSync(f.keyFile, 'utf8'), chainPem: '', trustAnchorsPem: mesh.root.certPem, notAfter: Date.now() + 3_600_000 };
}

function feedOf(c: Credentials): CredentialsFeed & { rotate(c: Credentials): void } {
  const listeners = new Set<(c: Credentials) => void>();
  return {
    creds: c,
    onRotate: (l) => (listeners.add(l), () => listeners.delete(l)),
    rotate(next) {
      this.creds = next;
      for (const l of listeners) l(next);
    },
  };
}

function fetchStream(socket: string): { client: grpc.Client; stream: grpc.ClientReadableStream<X509SvidResponseMessage> } {
  const Client = grpc.makeGenericClientConstructor(serviceDefinition('SpiffeWorkloadAPI'), 'SpiffeWorkloadAPI');
  const client = new Client(`unix://${socket}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('workload.spiffe.io', 'true');
  const stream = (client as unknown as Record<string, (r: object, m: grpc.Metadata) => grpc.ClientReadableStream<X509SvidResponseMessage>>).FetchX509SVID({}, md);
  return { client, stream };
}

const leafSerial = (m: X509SvidResponseMessage) => new X509Certificate(m.svids[0].x509Svid).serialNumber;

test('a rotation is written to an open FetchX509SVID stream right away', async () => {
  const first = await credentials('one');
  const feed = feedOf(first);
  const socket = join(mesh.dir, 'rotate.sock');
  const server = await startSpiffeWorkloadApi({ socketPath: socket, policy: { ownUid: process.getuid!(), allowedUids: [] }, feed, log: silentLogger });
  const { client, stream } = fetchStream(socket);
  try {
    const messages: { at: number; m: X509SvidResponseMessage }[] = [];
    const got = (n: number) => new Promise<void>((resolve, reject) => {
      const check = () => messages.length >= n && resolve();
      stream.on('data', (m: X509SvidResponseMessage) => (messages.push({ at: Date.now(), m }), check()));
      stream.on('error', reject);
      check();
    });
    await got(1);
    assert.equal(messages[0].m.svids[0].spiffeId, first.identity);
    const second = await credentials('two');
    const rotatedAt = Date.now();
    feed.rotate(second);
    await got(2);
    assert.equal(leafSerial(messages[1].m), new X509Certificate(second.certPem).serialNumber);
    assert.ok(messages[1].at - rotatedAt < 1000, `pushed after ${messages[1].at - rotatedAt} ms`);
  } finally {
    client.close();
    await server.close();
  }
});

test('closing a server whose socket path a successor took over leaves the successor\'s socket in place', async () => {
  const socket = join(mesh.dir, 'handover.sock');
  const policy = { ownUid: process.getuid!(), allowedUids: [] };
  const old = await startSpiffeWorkloadApi({ socketPath: socket, policy, feed: feedOf(await credentials('old')), log: silentLogger });
  const successor = await startSpiffeWorkloadApi({ socketPath: socket, policy, feed: feedOf(await credentials('new')), log: silentLogger });
  await old.close();
  assert.ok(existsSync(socket), 'the successor\'s socket is still there');
  const { client, stream } = fetchStream(socket);
  try {
    const m = await new Promise<X509SvidResponseMessage>((resolve, reject) => (stream.on('data', resolve), stream.on('error', reject)));
    assert.equal(m.svids[0].spiffeId, 'spiffe://cluster.local/ns/payments/sa/api');
  } finally {
    client.close();
    await successor.close();
  }
  assert.equal(existsSync(socket), false, 'the last server removes its socket');
});

test('a regular file at the socket path is not replaced', async () => {
  const path = join(mesh.dir, 'not-a-socket');
  writeFileSync(path, 'keep me');
  await assert.rejects(startSpiffeWorkloadApi({ socketPath: path, policy: { ownUid: 0, allowedUids: [] }, feed: feedOf(await credentials('x')), log: silentLogger }), /spiffe\.socketPath: .* exists and is not a socket/);
  assert.equal(readFileSync(path, 'utf8'), 'keep me');
});
