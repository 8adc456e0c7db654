// The IP of a gRPC peer in every form grpc-js reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerIp } from '../../src/core/peer-address.js';

test('the peer IP of a gRPC peer string', () => {
  const cases: [string | undefined, string | undefined][] = [
    ['198.18.0.12:53412', '198.18.0.12'],
    ['ipv4:198.18.0.12:53412', '198.18.0.12'],
    ['[fd00::12]:53412', 'fd00::12'],
    ['ipv6:[::1]:5000', '::1'],
    ['127.0.0.1:5000', '127.0.0.1'],
    ['ipv6:[::ffff:198.18.0.12]:53412', '198.18.0.12'],
    ['unix:/run/x.sock', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [peer, want] of cases) assert.equal(peerIp(peer), want, String(peer));
});
