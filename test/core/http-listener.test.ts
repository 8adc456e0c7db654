// Every component's HTTP(S) listener (src/core/http-listener.ts), as a client sees it: a taken
// port is an error, close() does not wait for keep-alive clients, and the grace lets a request in
// flight finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect } from 'node:net';
import { listen } from '../../src/core/http-listener.js';

test('a port already taken rejects with EADDRINUSE', async () => {
  const first = await listen(http.createServer(), 0, '127.0.0.1');
  try {
    await assert.rejects(listen(http.createServer(), first.port, '127.0.0.1'), /EADDRINUSE/);
  } finally {
    await first.close();
  }
});

test('close() ends an idle keep-alive connection at once instead of waiting for the client', async () => {
  const l = await listen(http.createServer((_req, res) => res.end('ok')), 0, '127.0.0.1');
  const agent = new http.Agent({ keepAlive: true });
  const body = await new Promise<string>((resolve) => http.get({ host: '127.0.0.1', port: l.port, agent }, (r) => (r.setEncoding('utf8'), r.on('data', resolve))));
  assert.equal(body, 'ok');
  const t0 = Date.now();
  await l.close();
  assert.ok(Date.now() - t0 < 500, `closed in ${Date.now() - t0} ms`);
  agent.destroy();
});

test('close(grace): a request in flight gets its answer; a silent connection is cut when the grace ends', async () => {
  const l = await listen(http.createServer((_req, res) => setTimeout(() => res.end('late'), 200)), 0, '127.0.0.1');
  const silent = connect(l.port, '127.0.0.1');
  await new Promise((r) => silent.once('connect', r));
  const silentClosed = new Promise((r) => silent.once('close', r));
  const answer = new Promise<string>((resolve, reject) => http.get({ host: '127.0.0.1', port: l.port }, (r) => (r.setEncoding('utf8'), r.on('data', resolve))).on('error', reject));
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  const closed = l.close(600);
  assert.equal(await answer, 'late');
  await silentClosed;
  await closed;
  assert.ok(Date.now() - t0 >= 500, 'the silent connection was kept until the grace ended');
});
