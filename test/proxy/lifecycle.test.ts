// `outpost proxy` as a real process: configuration errors reported all at once; SIGTERM drains
// (in-flight requests finish, then exit 0); POST /shutdown works from loopback when enabled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { outpost, spawnOutpost } from '../support/cli.js';
import { createMesh, startTestProxy, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
let app: Server;
let appPort: number;
const proxies: RunningProxy[] = [];

before(async () => {
  mesh = await createMesh();
  app = createServer((req, res) => {
    const delay = req.url === '/slow' ? 700 : 0;
    setTimeout(() => res.end('done'), delay);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
});

after(async () => {
  for (const p of proxies) await p.close();
  app?.close();
  mesh?.cleanup();
});

test('bad configuration: every problem is reported at once, naming the field, exit code 1', async () => {
  const file = join(mesh.dir, 'bad.yaml');
  writeFileSync(file, 'inbound:\n  port: lots\nidentity:\n  trustAnchors: /nonexistent/ca.crt\n  certFile: /x.crt\n');
  const r = await outpost(['proxy', '--config', file], { env: { ...process.env, OUTPOST_PROXY_TIMEOUTS_CONNECT: 'fast' } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /inbound\.port: must be a port number 0-65535 \(got "lots"\)/);
  assert.match(r.stderr, /timeouts\.connect: .*\(from OUTPOST_PROXY_TIMEOUTS_CONNECT\)/);
  assert.match(r.stderr, /identity: certFile and keyFile must be set together/);
});

test('SIGTERM drains: the in-flight request completes, new connections are refused, exit 0', async () => {
  const b = await mesh.issue('b', 'apps', 'server-b');
  const file = join(mesh.dir, 'proxy-b.yaml');
  writeFileSync(file, [
    'admin:\n  port: 0', `inbound:\n  port: 0\n  address: 127.0.0.1\n  ports: [${appPort}]`, 'outbound:\n  port: 0', 'tap:\n  port: 0\n  address: 127.0.0.1',
    `identity:\n  trustAnchors: ${mesh.trustFile}\n  certFile: ${b.certFile}\n  keyFile: ${b.keyFile}`,
    'timeouts:\n  shutdownGrace: 5s',
  ].join('\n'));
  const child = spawnOutpost(['proxy', '--config', file]);
  let stderr = '';
  const inboundPort = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /proxy listening .*inbound=(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`proxy exited: ${stderr}`)));
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const a = await startTestProxy(mesh, await mesh.issue('a', 'apps', 'client-a'), {
    upstreams: [{ name: 'slow.apps:80', listen: '127.0.0.1:0', endpoints: [{ address: '127.0.0.1', port: appPort, inboundPort, identity: b.identity, serverName: b.serverName }] }],
  });
  proxies.push(a);
  const port = a.ports.upstreams['slow.apps:80'];
  assert.equal((await fetch(`http://127.0.0.1:${port}/fast`)).status, 200);
  const inFlight = fetch(`http://127.0.0.1:${port}/slow`).then(async (r) => [r.status, await r.text()]);
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  assert.deepEqual(await inFlight, [200, 'done']);
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /draining/);
  const after = await fetch(`http://127.0.0.1:${port}/fast`);
  assert.equal(after.status, 502, 'the drained proxy accepts nothing more');
});

test('POST /shutdown from loopback drains the proxy, when admin.shutdownEnabled', async () => {
  const p = await startTestProxy(mesh, await mesh.issue('s', 'apps', 'shut'), { admin: { port: 0, shutdownEnabled: true } });
  const r = await fetch(`http://127.0.0.1:${p.ports.admin}/shutdown`, { method: 'POST' });
  assert.equal(r.status, 200);
  for (let i = 0; i < 50 && p.ready(); i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(p.ready(), false);
  await p.close();
});
