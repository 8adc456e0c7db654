// Table tests for the proxy's pure parts: configuration, transport header and detection, policy
// decisions, balancing with failure accrual, metric rendering, header conversion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { parseProxyConfig, envName } from '../../src/proxy/config.js';
import { encodeTransportHeader, decodeTransportHeader, detectProtocol } from '../../src/proxy/transport/header.js';
import { authorizeConnection, authorizeRequest, identityMatches } from '../../src/proxy/inbound/authorize.js';
import { P2cBalancer } from '../../src/proxy/outbound/balance.js';
import { Registry, labelString } from '../../src/core/metrics/registry.js';
import { requestAuthority, requestPath, h1RequestToH2, h2RequestToH1 } from '../../src/proxy/http/headers.js';
import { FakeClock } from '../../src/core/clock.js';
import type { InboundPortPolicy } from '../../src/api/model.js';

const GUIDE = `admin:
  port: 4191
inbound:
  port: 4143
outbound:
  port: 4140
identity:
  trustAnchors: /etc/outpost/ca.crt
  tokenPath: /etc/outpost/bootstrap-token.txt
destination:
  endpoint: 10.0.0.5:8086
workload:
  name: payment-processor-vm-1
  namespace: payments
`;

test("the guide's proxy-config.yaml is read as written, with control-plane endpoints defaulted", () => {
  const c = parseProxyConfig(parseYaml(GUIDE), {});
  assert.deepEqual([c.admin.port, c.inbound.port, c.outbound.port], [4191, 4143, 4140]);
  assert.equal(c.admin.host, '0.0.0.0', 'metrics reachable by the viz, as Linkerd (ADR 0012)');
  assert.equal(c.identity.mode, 'controlPlane');
  assert.deepEqual(c.identity.endpoint, { host: '10.0.0.5', port: 8080 });
  assert.deepEqual(c.policy.endpoint, { host: '10.0.0.5', port: 8090 });
  assert.deepEqual(c.health.endpoint, { host: '10.0.0.5', port: 8087 });
  assert.equal(c.workload.name, 'payment-processor-vm-1');
  assert.equal(c.timeouts.connectMs, 1000);
});

test('every setting can come from OUTPOST_PROXY_* and the environment wins over the file', () => {
  assert.equal(envName('identity.trustAnchors'), 'OUTPOST_PROXY_IDENTITY_TRUST_ANCHORS');
  const c = parseProxyConfig(parseYaml(GUIDE), {
    OUTPOST_PROXY_INBOUND_PORT: '5143',
    OUTPOST_PROXY_TIMEOUTS_CONNECT: '250ms',
    OUTPOST_PROXY_LOG_LEVEL: 'debug',
    OUTPOST_PROXY_UPSTREAMS: JSON.stringify([{ service: 'postgres.hybrid-app', port: 5432, listen: '127.0.0.1:5432' }]),
  });
  assert.equal(c.inbound.port, 5143);
  assert.equal(c.timeouts.connectMs, 250);
  assert.equal(c.log.level, 'debug');
  assert.deepEqual(c.upstreams[0], { authority: 'postgres.hybrid-app:5432', listen: { host: '127.0.0.1', port: 5432 }, endpoints: undefined, protocol: 'detect' });
});

test('all bad values are reported at once, one line per problem naming the field', () => {
  let msg = '';
  try {
    parseProxyConfig({ outbound: { http1Transport: 'carrier-pigeon' }, inbound: { port: 'abc' }, admin: { port: 70000 }, timeouts: { request: 'soon' }, upstreams: [{ name: 'x', listen: 'nowhere', endpoints: [{ address: '127.0.0.1', port: 0, identity: 'bob' }] }] }, { OUTPOST_PROXY_LOG_LEVEL: 'loud' });
  } catch (e) {
    msg = (e as Error).message;
  }
  const lines = msg.split('\n').slice(1).map((l) => l.trim());
  for (const field of ['outbound.http1Transport', 'inbound.port', 'admin.port', 'timeouts.request', 'log.level', 'upstreams[0].listen', 'upstreams[0].endpoints[0].port', 'upstreams[0].endpoints[0].identity', 'identity.trustAnchors', 'identity:']) {
    assert.ok(lines.some((l) => l.startsWith(field)), `${field} reported in:\n${msg}`);
  }
  assert.ok(lines.find((l) => l.startsWith('log.level'))!.includes('OUTPOST_PROXY_LOG_LEVEL'));
});

test('files mode needs no control plane', () => {
  const c = parseProxyConfig({ identity: { trustAnchors: '/ca', certFile: '/c', keyFile: '/k' }, upstreams: [{ name: 'api', listen: 9000, endpoints: [{ address: '127.0.0.1', port: 80, inboundPort: 4143, identity: 'spiffe://td/ns/a/sa/b', serverName: 'b.a' }] }] }, {});
  assert.equal(c.identity.mode, 'files');
  assert.equal(c.upstreams[0].endpoints![0].inboundPort, 4143);
});

test('transport header round-trips and rejects garbage early', () => {
  const b = encodeTransportHeader({ port: 6379, opaque: true });
  assert.equal(b.length, 8);
  assert.deepEqual(decodeTransportHeader(b), { port: 6379, opaque: true });
  assert.equal(decodeTransportHeader(b.subarray(0, 5)), undefined);
  assert.ok(decodeTransportHeader(Buffer.from('GET / HTTP/1.1')) instanceof Error);
  assert.ok(decodeTransportHeader(Buffer.from('OP')) === undefined);
});

test('protocol detection', () => {
  const cases: [string, string][] = [
    ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'http1'],
    ['POST /a HTTP/1.0\r\n', 'http1'],
    ['GET / HT', 'more'],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'h2'],
    ['PRI * HTTP/2', 'more'],
    ['PING\r\n', 'opaque'],
    ['*1\r\n$4\r\nPING\r\n', 'opaque'],
    ['\x16\x03\x01', 'opaque'],
    ['GET /x SPDY/3\r\n', 'opaque'],
  ];
  for (const [input, want] of cases) assert.equal(detectProtocol(Buffer.from(input, 'latin1')), want, JSON.stringify(input));
});

const policy = (authz: InboundPortPolicy['authorizations'], routes: InboundPortPolicy['httpRoutes'] = []): InboundPortPolicy => ({ protocol: 'detect', authorizations: authz, httpRoutes: routes, labels: { kind: 'server', name: 's' } });

test('authorization: identities, suffixes, networks, routes, and no policy = deny', () => {
  assert.ok(identityMatches('*', 'spiffe://a'));
  assert.ok(!identityMatches('*', undefined));
  assert.ok(identityMatches('*.ns.serviceaccount.identity.outpost.cluster.local', 'x.ns.serviceaccount.identity.outpost.cluster.local'));
  const mtls = policy([{ networks: [], authentication: { kind: 'meshTLS', identities: ['spiffe://td/ns/a/sa/good'] }, labels: { kind: 'authorizationpolicy', name: 'p' } }]);
  assert.equal(authorizeConnection(mtls, 'spiffe://td/ns/a/sa/good', '127.0.0.1').allowed, true);
  assert.equal(authorizeConnection(mtls, 'spiffe://td/ns/a/sa/bad', '127.0.0.1').allowed, false);
  assert.equal(authorizeConnection(undefined, 'spiffe://td/ns/a/sa/good', '127.0.0.1').allowed, false);
  const net = policy([{ networks: [{ net: '10.0.0.0/8', except: ['10.1.0.0/16'] }], authentication: { kind: 'unauthenticated' }, labels: {} }]);
  assert.equal(authorizeConnection(net, undefined, '10.2.3.4').allowed, true);
  assert.equal(authorizeConnection(net, undefined, '10.1.3.4').allowed, false);
  assert.equal(authorizeConnection(net, undefined, '::ffff:192.168.1.1').allowed, false);
  const routed = policy(mtls.authorizations, [{ labels: { route: 'r' }, matches: [{ pathType: 'PathPrefix', path: '/api', method: 'GET', headers: [], queryParams: [] }], authorizations: [] }]);
  const req = (method: string, target: string) => ({ method, target, header: () => undefined });
  assert.equal(authorizeRequest(routed, 'spiffe://td/ns/a/sa/good', '127.0.0.1', req('GET', '/api/x')).allowed, true);
  assert.equal(authorizeRequest(routed, 'spiffe://td/ns/a/sa/good', '127.0.0.1', req('POST', '/api/x')).allowed, false);
  assert.equal(authorizeRequest(routed, 'spiffe://td/ns/a/sa/good', '127.0.0.1', req('GET', '/other')).allowed, false);
});

test('P2C prefers the faster endpoint and ejects after consecutive failures, then re-probes', () => {
  const clock = new FakeClock();
  let r = 0;
  const seq = [0.1, 0.9, 0.5, 0.3];
  const b = new P2cBalancer<string>(clock, { random: () => seq[r++ % seq.length], failureThreshold: 3, backoffMinMs: 1000 });
  b.update([{ key: 'fast', target: 'fast' }, { key: 'slow', target: 'slow' }]);
  const [fast, slow] = b.all();
  for (let i = 0; i < 5; i++) {
    b.start(fast);
    b.finish(fast, 1, true);
    b.start(slow);
    b.finish(slow, 200, true);
  }
  assert.equal(b.pick()!.key, 'fast');
  for (let i = 0; i < 3; i++) {
    b.start(fast);
    b.finish(fast, 1, false);
  }
  assert.ok(fast.ejected);
  for (let i = 0; i < 10; i++) assert.equal(b.pick()!.key, 'slow', 'ejected endpoint gets no traffic');
  clock.advance(2000);
  const probe = [b.pick(), b.pick(), b.pick()].filter((s) => s!.key === 'fast');
  assert.ok(probe.length <= 1, 'at most one probe at a time');
  b.update([{ key: 'slow', target: 'slow' }, { key: 'fast', target: 'fast' }]);
  assert.equal(b.size(), 2);
  assert.ok(b.all().find((s) => s.key === 'fast')!.ejected, 'state survives an update');
});

test('all endpoints ejected: the balancer still tries one instead of failing', () => {
  const b = new P2cBalancer<string>(new FakeClock());
  b.update([{ key: 'a', target: 'a' }]);
  b.ejectNow(b.all()[0]);
  assert.equal(b.pick()!.key, 'a');
  assert.equal(b.pick(b.all()[0]), undefined);
});

test('Prometheus text: counters, histograms with Linkerd buckets, escaped labels', () => {
  const reg = new Registry();
  const c = reg.counter('request_total', 'Total');
  c.cell(labelString({ authority: 'a"b', tls: 'true' })).value += 2;
  const h = reg.histogram('response_latency_ms', 'Latency');
  const cell = h.cell(labelString({ direction: 'inbound' }));
  cell.observe(0.5);
  cell.observe(7);
  const text = reg.render();
  assert.match(text, /request_total\{authority="a\\"b",tls="true"\} 2/);
  assert.match(text, /response_latency_ms_bucket\{direction="inbound",le="1"\} 1/);
  assert.match(text, /response_latency_ms_bucket\{direction="inbound",le="10"\} 2/);
  assert.match(text, /response_latency_ms_count\{direction="inbound"\} 2/);
});

test('HTTP header conversion drops hop-by-hop headers and carries the authority', () => {
  assert.equal(requestPath('http://api.apps:8080/a?b=1'), '/a?b=1');
  assert.equal(requestPath('http://api.apps'), '/');
  assert.equal(requestAuthority('http://api.apps:8080/a', 'other'), 'api.apps:8080');
  assert.equal(requestAuthority('/a', 'host.x'), 'host.x');
  const h2 = h1RequestToH2('GET', '/x', 'api', { connection: 'keep-alive', 'x-a': '1', host: 'api' }, 8080);
  assert.equal(h2['connection'], undefined);
  assert.equal(h2['outpost-dst-port'], 8080);
  const h1 = h2RequestToH1({ ':authority': 'api', ':path': '/x', 'outpost-dst-port': '8080', 'outpost-orig-proto': 'HTTP/1.1', 'x-a': '1' });
  assert.deepEqual(h1, { 'x-a': '1', host: 'api' });
});
