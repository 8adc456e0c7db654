// What a proxy loads at start: the data plane (inbound, outbound, tap, admin) and the `outpost proxy`
// command do not load gRPC, protobuf or @peculiar/x509 (about 17 MB of RSS each proxy would carry idle); they come
// with the control-plane clients and the SPIFFE Workload API, loaded only when configured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');

/** The npm packages loaded (through Node's CommonJS loader) after importing these modules in a fresh process. */
function packagesLoadedBy(modules: string[]): string[] {
  const script = `
    import { createRequire } from 'node:module';
    for (const m of ${JSON.stringify(modules)}) await import(m);
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const names = cache.map((k) => (k.match(/node_modules\\/(@[^/]+\\/[^/]+|[^/]+)/) || [])[1]).filter(Boolean);
    console.log(JSON.stringify([...new Set(names)]));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as string[];
}

test('the proxy command and its data plane start without gRPC, protobuf or the X.509 library', () => {
  const loaded = packagesLoadedBy(['./src/cli/commands/proxy.ts', './src/proxy/main.ts']);
  for (const pkg of ['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', '@peculiar/x509']) assert.ok(!loaded.includes(pkg), `${pkg} is loaded at start (loaded: ${loaded.join(', ')})`);
});

test('the control-plane clients do bring gRPC (loaded when a control plane is configured)', () => {
  assert.ok(packagesLoadedBy(['./src/proxy/control/index.ts']).includes('@grpc/grpc-js'));
});
