// The outbound stack's layers together, on a FakeClock with a scripted last stage: which endpoint a
// request reaches, when it is retried (never-sent only, 3 attempts, not after its body left), what
// the balancer and the metrics count, and which named error the exchange gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import type { EndpointSnapshot, ResolvedEndpoint } from '../../src/api/model.js';
import type { Discovery } from '../../src/proxy/types.js';
import { HttpExchange, type Handler, type HttpWire } from '../../src/proxy/http/exchange.js';
import { ProxyError } from '../../src/proxy/http/errors.js';
import { ProxyMetrics } from '../../src/proxy/metrics/proxy-metrics.js';
import { TapHub } from '../../src/proxy/tap/hub.js';
import { OutboundRouter } from '../../src/proxy/outbound/logical.js';
import { outboundHttpStack } from '../../src/proxy/outbound/stack.js';
import type { Endpoint } from '../../src/proxy/outbound/layers.js';
import { retryElsewhere } from '../../src/proxy/outbound/retry.js';

const ep = (address: string): ResolvedEndpoint => ({ address, port: 8080, inboundPort: 4143, identity: `spiffe://cluster.local/ns/apps/sa/${address}`, serverName: address, protocolHint: 'unknown', weight: 1, labels: {} });

function discoveryOf(snapshots: Record<string, EndpointSnapshot>): Discovery {
  return { resolve: (a) => ({ current: () => snapshots[a], subscribe: () => () => {}, close() {} }), close() {} };
}

interface Outcome {
  error?: ProxyError;
  done?: [number, boolean];
}

/** An exchange that records how it ended. */
class RecordedExchange extends HttpExchange {
  readonly method = 'GET';
  readonly path = '/orders';
  readonly client = '127.0.0.1:50000';
  readonly grpc = false;
  readonly wire = { kind: 'h2' } as unknown as HttpWire;
  readonly outcome: Outcome = {};

  constructor(
    readonly authority: string,
    readonly hasBody: boolean,
  ) {
    super();
    this.onDone((o: Outcome, status, failure) => (o.done = [status, failure]), this.outcome);
  }

  header(): string | undefined {
    return undefined;
  }

  protected writeError(e: ProxyError): void {
    this.outcome.error = e;
  }
}

function exchange(authority: string, hasBody = false): { x: HttpExchange; outcome: Outcome } {
  const x = new RecordedExchange(authority, hasBody);
  return { x, outcome: x.outcome };
}

/** A last stage that refuses connections to `dead` endpoints and answers 200 from the others. */
function scripted(dead: Set<string>, tried: string[], opts: { failAfterSend?: boolean } = {}): Handler<Endpoint> {
  return (x, t) => {
    const a = t.slot.target.address;
    tried.push(a);
    if (dead.has(a)) {
      if (retryElsewhere(x, t, true)) return;
      x.sending();
      return x.respond(new ProxyError('connect_failed', `connect to ${a} failed`));
    }
    x.sending();
    if (opts.failAfterSend) {
      if (!x.hasBody && retryElsewhere(x, t, false)) return;
      return x.respond(new ProxyError('upstream_failed', 'reset'));
    }
    x.done(200, false);
  };
}

function setup(endpoints: ResolvedEndpoint[], last: (tried: string[]) => Handler<Endpoint>) {
  const clock = new FakeClock();
  const metrics = new ProxyMetrics();
  const router = new OutboundRouter({ clock, discovery: discoveryOf({ 'api.apps:80': { exists: true, endpoints, labels: {} }, 'gone.apps:80': { exists: false, endpoints: [], labels: {} } }), metrics, idleMs: 60_000 });
  const tried: string[] = [];
  const handle = outboundHttpStack({ router, endpoint: last(tried), clock, tap: new TapHub(), ownIdentity: () => 'spiffe://cluster.local/ns/apps/sa/client', discoveryWaitMs: 1000 });
  /** The sum of a family's series for one endpoint. */
  const count = (name: string, address: string) =>
    metrics.registry
      .render()
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) && l.includes(`target_addr="${address}:8080"`))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  return { handle, tried, router, count };
}

test('a refused endpoint: the request goes to another, counted once, and the refused one is ejected', () => {
  const { handle, tried, router, count } = setup([ep('10.9.0.1'), ep('10.9.0.2')], (tried) => scripted(new Set(['10.9.0.1']), tried));
  for (let i = 0; i < 6; i++) {
    const { x, outcome } = exchange('api.apps:80');
    handle(x);
    assert.deepEqual(outcome.done, [200, false]);
    assert.equal(outcome.error, undefined);
  }
  assert.equal(tried.filter((a) => a === '10.9.0.1').length, 1, 'after one refusal the endpoint is ejected');
  assert.equal(count('request_total', '10.9.0.2'), 6);
  assert.equal(count('request_total', '10.9.0.1'), 0, 'the refused attempt is not a request');
  const slot = router.get('api.apps:80').balancer.all().find((s) => s.target.address === '10.9.0.1')!;
  assert.equal(slot.ejected, true);
  assert.equal(slot.pending, 0, 'no load left on the balancer');
});

test('at most three attempts, then connect_failed (502), recorded on the last endpoint tried', () => {
  const dead = new Set(['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.9.0.4']);
  const { handle, tried, count } = setup([...dead].map(ep), (tried) => scripted(dead, tried));
  const { x, outcome } = exchange('api.apps:80');
  handle(x);
  assert.equal(tried.length, 3);
  assert.equal(new Set(tried).size, 3, 'three different endpoints');
  assert.equal(outcome.error?.code, 'connect_failed');
  assert.equal(outcome.error?.status, 502);
  assert.deepEqual(outcome.done, [502, true]);
  assert.equal(count('request_total', tried[2]), 1);
  assert.equal(count('response_total', tried[2]), 1);
});

test('a request whose body may have left is not retried after a reset; one without a body is', () => {
  const withBody = setup([ep('10.9.0.1'), ep('10.9.0.2')], (tried) => scripted(new Set(), tried, { failAfterSend: true }));
  const a = exchange('api.apps:80', true);
  withBody.handle(a.x);
  assert.equal(withBody.tried.length, 1);
  assert.equal(a.outcome.error?.code, 'upstream_failed');
  const without = setup([ep('10.9.0.1'), ep('10.9.0.2')], (tried) => scripted(new Set(), tried, { failAfterSend: true }));
  const b = exchange('api.apps:80', false);
  without.handle(b.x);
  assert.equal(without.tried.length, 3, 'tried again, up to three attempts (then answered: every attempt resets)');
  assert.equal(b.outcome.error?.code, 'upstream_failed');
});

test("discovery's answers become named errors before any endpoint is tried", () => {
  const none = setup([], (tried) => scripted(new Set(), tried));
  const a = exchange('api.apps:80');
  none.handle(a.x);
  assert.equal(a.outcome.error?.code, 'no_endpoints');
  assert.equal(a.outcome.error?.status, 503);
  const b = exchange('gone.apps:80');
  none.handle(b.x);
  assert.equal(b.outcome.error?.code, 'no_such_service');
  assert.equal(b.outcome.error?.status, 502);
  assert.deepEqual(none.tried, []);
});
