// Restart without an outage: SIGHUP (`systemctl reload outpost-proxy`) starts a new proxy that takes
// over the listening sockets; no new connection is refused during the switch, a connection opened
// before it keeps flowing through the old proxy, which exits once that connection closes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnOutpost } from '../support/cli.js';
import { createMesh, type Mesh } from './mesh.js';

let mesh: Mesh;
let echo: Server;
let echoPort: number;
const killAtEnd: number[] = [];

before(async () => {
  mesh = await createMesh();
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
});

after(() => {
  for (const pid of killAtEnd) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  echo?.close();
  mesh?.cleanup();
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** One round trip on a new connection: resolves true when the bytes came back. */
function roundTrip(port: number, payload: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const t = setTimeout(() => (s.destroy(), resolve(false)), 2000);
    s.on('error', () => (clearTimeout(t), resolve(false)));
    s.on('connect', () => s.write(payload));
    s.on('data', (d) => {
      got += d;
      if (got === payload) {
        clearTimeout(t);
        s.end();
        resolve(true);
      }
    });
  });
}

function echoOn(s: Socket, payload: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('data', (d) => resolve(String(d)));
    s.write(payload);
  });
}

test('SIGHUP: the new proxy takes over the sockets, nothing is refused, the old one drains and exits after its last connection', { timeout: 60_000 }, async () => {
  const creds = await mesh.issue('r', 'apps', 'restart');
  const port = await freePort();
  const file = join(mesh.dir, 'proxy-restart.yaml');
  writeFileSync(file, [
    'admin:\n  port: 0\n  address: 127.0.0.1', 'inbound:\n  port: 0\n  address: 127.0.0.1', 'outbound:\n  port: 0', 'tap:\n  port: 0\n  address: 127.0.0.1',
    `identity:\n  trustAnchors: ${mesh.trustFile}\n  certFile: ${creds.certFile}\n  keyFile: ${creds.keyFile}`,
    `upstreams:\n  - name: echo\n    listen: 127.0.0.1:${port}\n    protocol: opaque\n    endpoints:\n      - address: 127.0.0.1\n        port: ${echoPort}`,
  ].join('\n'));
  const old = spawnOutpost(['proxy', '--config', file]);
  killAtEnd.push(old.pid!);
  let log = '';
  const waitLog = (re: RegExp, ms = 20_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${re} in:\n${log}`)), ms);
      const check = () => {
        const m = re.exec(log);
        if (m) {
          clearTimeout(t);
          old.stderr!.off('data', check);
          resolve(m);
        }
      };
      old.stderr!.on('data', check);
      check();
    });
  old.stderr!.on('data', (d) => (log += d));
  const oldExited = new Promise<number | null>((r) => old.on('exit', (code) => r(code)));
  await waitLog(/proxy listening/);

  const long = connect(port, '127.0.0.1');
  await new Promise((r) => long.once('connect', r));
  assert.equal(await echoOn(long, 'before'), 'before');

  // New connections all the way through the switch.
  let attempts = 0;
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      attempts++;
      if (!(await roundTrip(port, `x${attempts}`))) failures++;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  old.kill('SIGHUP');
  const successor = Number((await waitLog(/started the new proxy.* pid=(\d+)/))[1]);
  killAtEnd.push(successor);
  await waitLog(/the new proxy serves; this one stops accepting and drains/);
  await new Promise((r) => setTimeout(r, 500));
  running = false;
  await loop;
  assert.equal(failures, 0, `${failures} of ${attempts} connections failed across the restart\n${log}`);
  assert.ok(attempts > 20, `only ${attempts} connections were tried`);

  // The connection opened before the restart still flows, through the old proxy.
  assert.equal(await echoOn(long, 'after'), 'after');
  assert.equal(old.exitCode, null, 'the old proxy waits for its last connection');
  long.end();
  assert.equal(await Promise.race([oldExited, new Promise((r) => setTimeout(() => r('still running'), 5000))]), 0, log);
  // The successor serves on the same port.
  assert.ok(await roundTrip(port, 'served by the successor'));
  process.kill(successor, 'SIGTERM');
});
