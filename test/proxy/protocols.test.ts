// End to end over loopback for HTTP/2 + gRPC (trailers, status) and opaque TCP (a Redis-like
// protocol): app A -> proxy A -> mTLS -> proxy B -> app B.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createServer as netServer, connect, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createMesh, serving, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';
import { readFileSync } from 'node:fs';
import { observeProxy, type TapEvent } from '../../src/viz/tap-client.js';
import { tapLine } from '../../src/viz/format.js';

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const SERVICE = {
  say: { path: '/test.Echo/Say', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
  count: { path: '/test.Echo/Count', requestStream: false, responseStream: true, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
} as unknown as grpc.ServiceDefinition;
const EchoClient = grpc.makeGenericClientConstructor(SERVICE as never, 'Echo');

let mesh: Mesh;
let grpcServer: grpc.Server;
let grpcPort: number;
let redis: Server;
let redisPort: number;
/** A local port nothing listens on: the "app" of down.apps is down. */
let downPort: number;
let proxyA: RunningProxy;
let proxyB: RunningProxy;

/** A tiny RESP-like server: "PING" -> "+PONG", "ECHO x" -> "$x", one reply per line. */
function startRedisLike(): Promise<Server> {
  const s = netServer((sock) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (line === 'PING') sock.write('+PONG\r\n');
        else if (line.startsWith('ECHO ')) sock.write(`$${line.slice(5)}\r\n`);
        else sock.write('-ERR unknown\r\n');
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

function talk(port: number, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    let got = '';
    const replies: string[] = [];
    sock.on('data', (d) => {
      got += d.toString('utf8');
      let i;
      while ((i = got.indexOf('\r\n')) >= 0) {
        replies.push(got.slice(0, i));
        got = got.slice(i + 2);
      }
      if (replies.length === lines.length) sock.end();
    });
    sock.on('close', () => resolve(replies));
    sock.on('error', reject);
    sock.write(lines.map((l) => l + '\r\n').join(''));
  });
}

before(async () => {
  mesh = await createMesh();
  grpcServer = new grpc.Server();
  grpcServer.addService(SERVICE, {
    say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const text = call.request.toString();
      if (text === 'fail') return cb({ code: grpc.status.FAILED_PRECONDITION, details: 'asked to fail' });
      cb(null, Buffer.from(`hello ${text}`));
    },
    count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 0; i < n; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
  });
  grpcPort = await new Promise((r, j) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  redis = await startRedisLike();
  redisPort = (redis.address() as AddressInfo).port;
  const closed = await startRedisLike();
  downPort = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const a = await mesh.issue('a', 'apps', 'client-a');
  const b = await mesh.issue('b', 'apps', 'server-b');
  proxyB = await startTestProxy(mesh, b, serving(grpcPort, redisPort, downPort));
  const peer = (appPort: number) => [{ proxy: proxyB, appPort, identity: b.identity, serverName: b.serverName }];
  proxyA = await startTestProxy(mesh, a, {
    upstreams: [upstreamTo('echo.apps:9090', peer(grpcPort)), upstreamTo('redis.apps:6379', peer(redisPort), 'opaque'), upstreamTo('redis-detect.apps:6379', peer(redisPort)), upstreamTo('down.apps:6379', peer(downPort), 'opaque')],
  });
});

after(async () => {
  await proxyA?.close();
  await proxyB?.close();
  grpcServer?.forceShutdown();
  redis?.close();
  mesh?.cleanup();
});

function client(): grpc.Client & Record<string, (...a: unknown[]) => unknown> {
  return new EchoClient(`127.0.0.1:${proxyA.ports.upstreams['echo.apps:9090']}`, grpc.credentials.createInsecure()) as never;
}

test('gRPC unary calls pass with their status; a failing call keeps its grpc-status and message', async () => {
  const c = client();
  const ok = await new Promise<Buffer>((r, j) => c.say(Buffer.from('mesh'), (e: Error | null, v: Buffer) => (e ? j(e) : r(v))));
  assert.equal(ok.toString(), 'hello mesh');
  const err = await new Promise<grpc.ServiceError>((r) => c.say(Buffer.from('fail'), (e: grpc.ServiceError) => r(e)));
  assert.equal(err.code, grpc.status.FAILED_PRECONDITION, err.details);
  assert.equal(err.details, 'asked to fail');
  c.close();
  const m = await fetch(`http://127.0.0.1:${proxyA.ports.admin}/metrics`).then((r) => r.text());
  assert.match(m, /response_total\{direction="outbound",authority="echo.apps:9090"[^}]*status_code="200",classification="failure",grpc_status="9"\} 1/);
});

test('gRPC responses are labelled with their grpc_status (trailers and trailers-only) in metrics, and tap shows a failed call with it', async () => {
  const viz = await mesh.issue('viz', 'outpost', 'outpost-viz');
  const events: TapEvent[] = [];
  const ended = new Promise<Error | undefined>((resolve) => {
    observeProxy({
      address: `127.0.0.1:${proxyB.ports.tap}`, workload: 'apps/b', expectedIdentity: '', filter: { pathPrefix: '/test.Echo/Say', limit: 2 },
      cert: { certPem: '', keyPem: readFileSync(viz.keyFile, 'utf8'), chainPem: readFileSync(viz.certFile, 'utf8') }, trustAnchorsPem: readFileSync(mesh.trustFile, 'utf8'),
      onEvent: (e) => events.push(e), onEnd: resolve,
    });
  });
  for (let i = 0; i < 50 && !proxyB.ctx.tap.active; i++) await new Promise((r) => setTimeout(r, 20));
  const c = client();
  await new Promise<Buffer>((r, j) => c.say(Buffer.from('ok'), (e: Error | null, v: Buffer) => (e ? j(e) : r(v))));
  await new Promise<grpc.ServiceError>((r) => c.say(Buffer.from('fail'), (e: grpc.ServiceError) => r(e)));
  c.close();
  assert.equal(await ended, undefined);
  assert.deepEqual(events.map((e) => [e.status, e.grpcStatus]), [[200, 0], [200, 9]], 'HTTP 200 both times; the grpc-status tells them apart');
  assert.match(tapLine(events[1]), / :status=200 grpc-status=9 latency=/);
  for (const p of [proxyA, proxyB]) {
    const m = await fetch(`http://127.0.0.1:${p.ports.admin}/metrics`).then((r) => r.text());
    assert.match(m, /response_total\{[^}]*status_code="200",classification="success",grpc_status="0"\} [1-9]/, 'a successful call (status in trailers)');
    assert.match(m, /response_total\{[^}]*status_code="200",classification="failure",grpc_status="9"\} [1-9]/, 'a failed call (trailers-only)');
    assert.match(m, /response_latency_ms_count\{[^}]*status_code="200",grpc_status="9"\} [1-9]/);
  }
});

test('gRPC server streaming delivers every message', async () => {
  const c = client();
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = c.count(Buffer.from('50')) as grpc.ClientReadableStream<Buffer>;
    call.on('data', (d: Buffer) => got.push(d.toString()));
    call.on('end', resolve);
    call.on('error', reject);
  });
  assert.equal(got.length, 50);
  assert.equal(got[49], '49');
  c.close();
});

const scrape = (p: RunningProxy) => fetch(`http://127.0.0.1:${p.ports.admin}/metrics`).then((r) => r.text());

/** Polls a proxy's metrics until `re` matches (close-side counters land a moment after the client sees the close). */
async function metricsMatching(p: RunningProxy, re: RegExp): Promise<string> {
  let m = '';
  for (let i = 0; i < 40; i++) {
    m = await scrape(p);
    if (re.test(m)) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  return m;
}

test('opaque TCP (Redis-like) passes byte-exact through an opaque upstream, counted with connection durations', async () => {
  const replies = await talk(proxyA.ports.upstreams['redis.apps:6379'], ['PING', 'ECHO one', 'ECHO two']);
  assert.deepEqual(replies, ['+PONG', '$one', '$two']);
  // Server side: the connection reached the local app (peer="dst"), and its lifetime is a histogram.
  const b = await metricsMatching(proxyB, new RegExp(`tcp_connection_duration_ms_count\\{direction="inbound",peer="dst",target_addr="127.0.0.1:${redisPort}"[^}]*\\} [1-9]`));
  assert.match(b, new RegExp(`tcp_open_total\\{direction="inbound",peer="dst",target_addr="127.0.0.1:${redisPort}"[^}]*\\} [1-9]`));
  assert.match(b, /tcp_connection_duration_ms_bucket\{direction="inbound",peer="src",tls="true",client_id="spiffe:\/\/cluster.local\/ns\/apps\/sa\/client-a",le="\+Inf"\} [1-9]/);
  assert.doesNotMatch(b, /,\}/, 'no empty label left a trailing comma');
  // Client side: the connection to the endpoint carries discovery's dst_* labels.
  const a = await metricsMatching(proxyA, /tcp_connection_duration_ms_count\{direction="outbound",peer="src",authority="redis.apps:6379"\} [1-9]/);
  assert.match(a, /tcp_open_total\{direction="outbound",peer="dst",target_addr="127.0.0.1:\d+",tls="true",server_id="spiffe:\/\/cluster.local\/ns\/apps\/sa\/server-b",dst_service="redis.apps:6379"\} [1-9]/);
  assert.doesNotMatch(a, /,\}/);
});

test('an opaque connection whose local app is down is counted as failed (errno), never as reaching the app', async () => {
  const replies = await talk(proxyA.ports.upstreams['down.apps:6379'], ['PING']);
  assert.deepEqual(replies, [], 'the connection closes without a reply');
  const failed = /tcp_close_total\{direction="inbound",peer="src",tls="true",client_id="spiffe:\/\/cluster.local\/ns\/apps\/sa\/client-a",errno="ECONNREFUSED"\} (\d+)/;
  const b = await metricsMatching(proxyB, failed);
  assert.equal(failed.exec(b)?.[1], '1', 'one refused connection');
  assert.doesNotMatch(b, new RegExp(`tcp_open_total\\{direction="inbound",peer="dst",target_addr="127.0.0.1:${downPort}"`));
  assert.match(b, new RegExp(`inbound_tcp_authz_allow_total\\{direction="inbound",target_addr="127.0.0.1:${downPort}"[^}]*\\} 1`), 'authorized, then refused by the app');
});

test('non-HTTP bytes on a detecting upstream are forwarded as opaque TCP', async () => {
  const replies = await talk(proxyA.ports.upstreams['redis-detect.apps:6379'], ['PING', 'ECHO x']);
  assert.deepEqual(replies, ['+PONG', '$x']);
  const m = await fetch(`http://127.0.0.1:${proxyB.ports.admin}/metrics`).then((r) => r.text());
  assert.match(m, new RegExp(`inbound_tcp_authz_allow_total\\{direction="inbound",target_addr="127.0.0.1:${redisPort}"[^}]*\\} [1-9]`));
  assert.match(m, /tcp_read_bytes_total\{direction="inbound"[^}]*\} [1-9]/);
});
