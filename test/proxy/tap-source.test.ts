// Outbound tap events name the app connection that sent the request (ip:port) on every outbound
// path: the default HTTP/1.1 relay (upstream listener and HTTP proxy port), HTTP/1.1 carried as
// HTTP/2 between proxies (http1Transport: h2), and h2c from the app. Inbound events name the peer proxy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, Agent } from 'node:http';
import { connect as h2connect } from 'node:http2';
import type { Socket } from 'node:net';
import { meshWithServer, upstreamTo, type MeshWithServer } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';
import type { TapEventData } from '../../src/proxy/tap/hub.js';

let setup: MeshWithServer;
let a: RunningProxy;
let a2: RunningProxy;

before(async () => {
  setup = await meshWithServer();
  a = await setup.startClient('a', { upstreams: [upstreamTo('api.apps:80', setup.peer)] });
  a2 = await setup.startClient('a2', { outbound: { port: 0, http1Transport: 'h2' }, upstreams: [upstreamTo('api.apps:80', setup.peer)] });
});

after(async () => {
  await setup?.close();
});

/** Taps `proxy`, sends one HTTP/1.1 request to `port` and returns the event with the client's own address. */
async function tapOne(proxy: RunningProxy, port: number, path: string, target = path): Promise<{ event: TapEventData; client: string }> {
  const events: TapEventData[] = [];
  const off = proxy.ctx.tap.subscribe({ pathPrefix: path }, (e) => events.push(e));
  try {
    const agent = new Agent({ keepAlive: false });
    const client = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: target, agent, headers: { host: 'api.apps:80' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(`${(req.socket as Socket).localAddress}:${(req.socket as Socket).localPort}`));
      });
      req.on('error', reject);
      req.end();
    });
    for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(events.length, 1, 'one tap event per request');
    return { event: events[0], client };
  } finally {
    off();
  }
}

for (const [name, proxy, port, target] of [
  ['the default HTTP/1.1 path (upstream listener)', () => a, () => a.ports.upstreams['api.apps:80'], '/t1'],
  ['the default HTTP/1.1 path (HTTP proxy port, absolute-form)', () => a, () => a.ports.outbound, 'http://api.apps:80/t2'],
  ['HTTP/1.1 over HTTP/2 between proxies (http1Transport: h2)', () => a2, () => a2.ports.upstreams['api.apps:80'], '/t3'],
] as const) {
  test(`an outbound tap event carries the app's address as its source: ${name}`, async () => {
    const path = target.startsWith('http') ? new URL(target).pathname : target;
    const { event, client } = await tapOne(proxy(), port(), path, target);
    assert.equal(event.direction, 'outbound');
    assert.equal(event.source, client);
    assert.equal(event.path, path);
    assert.equal(event.status, 200);
  });
}

test("an outbound tap event carries the app's address as its source: h2c from the app", async () => {
  const events: TapEventData[] = [];
  const off = a.ctx.tap.subscribe({ pathPrefix: '/t4' }, (e) => events.push(e));
  const session = h2connect(`http://127.0.0.1:${a.ports.upstreams['api.apps:80']}`);
  try {
    await new Promise<void>((resolve, reject) => {
      const s = session.request({ ':path': '/t4' });
      s.on('response', () => s.resume());
      s.on('end', resolve);
      s.on('error', reject);
      s.end();
    });
    for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(events.length, 1);
    assert.equal(events[0].source, `${session.socket.localAddress}:${session.socket.localPort}`);
  } finally {
    off();
    session.close();
  }
});
