// Outbound authorities are kept while used and evicted with their discovery stream after
// timeouts.idle without use (counted in outbound_authorities_evicted_total); time is a FakeClock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { ProxyMetrics } from '../../src/proxy/metrics/proxy-metrics.js';
import { OutboundRouter } from '../../src/proxy/outbound/logical.js';
import type { EndpointSnapshot } from '../../src/api/model.js';
import type { Discovery, EndpointWatch } from '../../src/proxy/types.js';

/** A discovery seam that records which authorities have an open stream. */
function recordingDiscovery(): Discovery & { open: Map<string, number>; resolved: string[] } {
  const open = new Map<string, number>();
  const resolved: string[] = [];
  return {
    open,
    resolved,
    resolve(authority: string): EndpointWatch {
      resolved.push(authority);
      open.set(authority, (open.get(authority) ?? 0) + 1);
      const snap: EndpointSnapshot = { exists: true, endpoints: [], labels: {} };
      let closed = false;
      return {
        current: () => snap,
        subscribe: () => () => {},
        close: () => {
          if (closed) return;
          closed = true;
          const n = (open.get(authority) ?? 1) - 1;
          if (n === 0) open.delete(authority);
          else open.set(authority, n);
        },
      };
    },
    close() {},
  };
}

function evictedTotal(metrics: ProxyMetrics): number {
  const m = /^outbound_authorities_evicted_total (\d+)$/m.exec(metrics.registry.render());
  return m ? Number(m[1]) : NaN;
}

test('an authority unused for timeouts.idle is evicted with its discovery stream, and counted', () => {
  const clock = new FakeClock();
  const discovery = recordingDiscovery();
  const metrics = new ProxyMetrics();
  const router = new OutboundRouter({ clock, discovery, metrics, idleMs: 60_000 });
  const a = router.get('a.apps:80');
  router.get('b.apps:80');
  assert.equal(router.get('a.apps:80'), a, 'one logical service per authority while in use');
  assert.deepEqual([...discovery.open.keys()].sort(), ['a.apps:80', 'b.apps:80']);
  assert.equal(evictedTotal(metrics), 0);

  // a is used every 20 s; b never again.
  for (let i = 0; i < 4; i++) {
    clock.advance(20_000);
    router.get('a.apps:80');
  }
  assert.deepEqual([...discovery.open.keys()], ['a.apps:80'], "b's discovery stream is closed, a's kept");
  assert.equal(router.size, 1);
  assert.equal(evictedTotal(metrics), 1);

  // Unused for a full idle period: a goes too; a later request resolves it afresh.
  clock.advance(90_000);
  assert.equal(discovery.open.size, 0);
  assert.equal(evictedTotal(metrics), 2);
  const again = router.get('a.apps:80');
  assert.notEqual(again, a);
  assert.equal(discovery.resolved.filter((r) => r === 'a.apps:80').length, 2);
  router.close();
  assert.equal(discovery.open.size, 0, 'closing the router closes every stream');
});

test('an authority in use is never evicted, however long the proxy runs', () => {
  const clock = new FakeClock();
  const discovery = recordingDiscovery();
  const metrics = new ProxyMetrics();
  const router = new OutboundRouter({ clock, discovery, metrics, idleMs: 10_000 });
  const svc = router.get('busy.apps:80');
  for (let i = 0; i < 100; i++) {
    clock.advance(4_000);
    assert.equal(router.get('busy.apps:80'), svc);
  }
  assert.equal(discovery.resolved.length, 1);
  assert.equal(evictedTotal(metrics), 0);
});
