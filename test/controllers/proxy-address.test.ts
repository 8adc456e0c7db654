// Where the control plane reaches a proxy's admin and tap listeners, from what the proxy reports and
// the address its health stream comes from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerIp, reachableAddress } from '../../src/controllers/health/proxy-address.js';

test('the peer IP of a gRPC peer string', () => {
  const cases: [string | undefined, string | undefined][] = [
    ['198.18.0.12:53412', '198.18.0.12'],
    ['ipv4:198.18.0.12:53412', '198.18.0.12'],
    ['[fd00::12]:53412', 'fd00::12'],
    ['ipv6:[::ffff:198.18.0.12]:53412', '198.18.0.12'],
    ['unix:/run/x.sock', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [peer, want] of cases) assert.equal(peerIp(peer), want, String(peer));
});

test('a wildcard listener is reached at the peer address; a concrete one as reported; port 0 or no peer is unknown', () => {
  const cases: [string | undefined, string | undefined, string | undefined][] = [
    ['0.0.0.0:4191', '198.18.0.12', '198.18.0.12:4191'],
    ['[::]:4190', '198.18.0.12', '198.18.0.12:4190'],
    [':4191', 'fd00::12', '[fd00::12]:4191'],
    ['198.18.0.12:4191', '10.9.9.9', '198.18.0.12:4191'],
    ['127.0.0.1:4191', '198.18.0.12', '127.0.0.1:4191'],
    ['0.0.0.0:4191', undefined, undefined],
    ['127.0.0.1:0', '198.18.0.12', undefined],
    ['nonsense', '198.18.0.12', undefined],
    ['', '198.18.0.12', undefined],
  ];
  for (const [reported, peer, want] of cases) assert.equal(reachableAddress(reported, peer), want, `${reported} from ${peer}`);
});
