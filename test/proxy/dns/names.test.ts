// The DNS proxy's pure parts: which names are Service names, and the messages it answers with
// (checked by parsing them back the way a resolver would).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meshNameOf, nameserversOf } from '../../../src/proxy/dns/names.js';
import { buildAnswer, parseQuery, RCODE_NOERROR, RCODE_NXDOMAIN, TYPE_A, TYPE_AAAA } from '../../../src/proxy/dns/message.js';

test('Service names in their Kubernetes forms; other names are not ours', () => {
  const of = (n: string) => meshNameOf(n, 'hybrid-app', 'cluster.local');
  assert.deepEqual(of('postgres.hybrid-app.svc.cluster.local.'), { service: 'postgres', namespace: 'hybrid-app', authoritative: true });
  assert.deepEqual(of('Postgres.Hybrid-App.svc'), { service: 'postgres', namespace: 'hybrid-app', authoritative: true });
  assert.deepEqual(of('redis.caching'), { service: 'redis', namespace: 'caching', authoritative: false });
  assert.deepEqual(of('postgres'), { service: 'postgres', namespace: 'hybrid-app', authoritative: false });
  assert.deepEqual(of('a.b.c.svc.cluster.local'), { service: '', namespace: '', authoritative: true }, 'nothing else exists under svc.cluster.local');
  assert.equal(of('deb.debian.org'), undefined);
  assert.equal(meshNameOf('postgres', undefined, 'cluster.local'), undefined, 'short names need the workload namespace');
  assert.deepEqual(meshNameOf('web.shop.svc.corp.example', 'x', 'corp.example'), { service: 'web', namespace: 'shop', authoritative: true });
});

test('resolv.conf nameservers in order, zone ids dropped', () => {
  assert.deepEqual(nameserversOf('# c\nsearch x\nnameserver 198.18.0.1\n nameserver fe80::1%eth0\noptions ndots:5\n'), ['198.18.0.1', 'fe80::1']);
});

/** A query as dig would send it. */
function query(name: string, type: number): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  return Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, tail]);
}

test('an A answer carries the address after the question, with the query id; AAAA of an IPv4 Service is empty', () => {
  const q = query('postgres.hybrid-app.svc.cluster.local', TYPE_A);
  const parsed = parseQuery(q)!;
  assert.deepEqual([parsed.id, parsed.name, parsed.type], [0x1234, 'postgres.hybrid-app.svc.cluster.local', TYPE_A]);
  const a = buildAnswer(q, parsed, RCODE_NOERROR, ['198.18.252.7']);
  assert.equal(a.readUInt16BE(0), 0x1234);
  assert.equal(a.readUInt16BE(2) & 0x8000, 0x8000, 'a response');
  assert.equal(a.readUInt16BE(2) & 0x0100, 0x0100, 'RD echoed');
  assert.equal(a.readUInt16BE(6), 1, 'one answer');
  assert.deepEqual([...a.subarray(a.length - 4)], [198, 18, 252, 7]);
  assert.equal(a.readUInt32BE(a.length - 10), 5, 'TTL 5 s');
  const q6 = query('postgres', TYPE_AAAA);
  const empty = buildAnswer(q6, parseQuery(q6)!, RCODE_NOERROR, ['198.18.252.7']);
  assert.deepEqual([empty.readUInt16BE(2) & 0xf, empty.readUInt16BE(6)], [0, 0]);
  const nx = buildAnswer(q, parsed, RCODE_NXDOMAIN);
  assert.equal(nx.readUInt16BE(2) & 0xf, 3);
  assert.equal(parseQuery(a), undefined, 'responses are not queries');
  assert.equal(parseQuery(Buffer.from([1, 2, 3])), undefined);
});
