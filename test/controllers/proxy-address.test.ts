// Where the control plane reaches a proxy's admin and tap listeners, from what the proxy reports and
// the address its health stream comes from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reachableAddress } from '../../src/controllers/health/proxy-address.js';

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
