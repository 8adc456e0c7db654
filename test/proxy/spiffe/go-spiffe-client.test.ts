// The SPIFFE Workload API of a real `outpost proxy` (joined to a real in-process control plane that
// issues 4-second certificates), exercised by a client nobody here wrote the protocol for: a Go
// program built from github.com/spiffe/go-spiffe/v2 (test/fixtures/spiffe-client). It fetches the
// X.509-SVID and bundle, verifies the chain against the trust roots the cluster publishes, sees a
// rotation pushed on the stream, and is refused from a uid that is not allowed; it fetches a
// JWT-SVID and validates it with go-spiffe's own jwtbundle/jwtsvid code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { kubectl, REPO_ROOT, run, spawnOutpost, type RunResult } from '../../support/cli.js';
import { startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { waitFor } from '../../support/wait.js';
import { serviceDefinition } from '../../../src/api/load.js';
import { nativeAddon } from '../../../src/core/original-dst.js';

const ALLOWED_OTHER_UID = 65534; // nobody: listed in spiffe.allowedUids
const REFUSED_UID = 65533; // listed nowhere
const IDENTITY = 'spiffe://cluster.local/redis-cache'; // the WorkloadGroup template's meshTLS.identity

let cp: TestControlPlane;
let work: string;
let client: string;
let socket: string;
let roots: string;
let jwtBundle: string;
let proxy: ChildProcess | undefined;
let proxyLog = '';

async function k(args: string[]): Promise<string> {
  const r = await kubectl(cp.kubeconfigPath, args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs the go-spiffe client, as root or (setpriv) as another uid. */
function goClient(args: string[], uid?: number): Promise<RunResult> {
  const cmd = uid === undefined ? [client, ...args] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', client, ...args];
  return run(cmd[0], cmd.slice(1), { timeoutMs: 40_000, cwd: work });
}

const jwtArgs = (audience: string) => ['jwt', '-addr', `unix://${socket}`, '-audience', audience];
const x509Args = () => ['x509', '-addr', `unix://${socket}`, '-roots', roots, '-trust-domain', 'cluster.local'];

before(async () => {
  assert.equal(typeof nativeAddon().peerCredentials, 'function', 'native/original-dst is built without peerCredentials (SO_PEERCRED): rebuild it with `npm ci`');
  client = (await run('bash', [join(REPO_ROOT, 'scripts', 'spiffe-client.sh'), 'build'], { timeoutMs: 300_000 })).stdout.trim();
  assert.ok(client.endsWith('spiffe-client'), 'the go-spiffe client builds');
  cp = await startTestControlPlane({ 'identity-issuance-lifetime': 4_000 });
  work = mkdtempSync(join(tmpdir(), 'outpost-spiffe-'));
  chmodSync(work, 0o755); // the client runs as other uids too: it must reach the socket and its binary
  copyFileSync(client, join(work, 'spiffe-client'));
  client = join(work, 'spiffe-client');
  socket = join(work, 'run', 'spiffe.sock');
  roots = join(work, 'roots.pem');
  const fx = join(REPO_ROOT, 'test', 'fixtures', 'guide');
  await k(['apply', '-f', join(fx, '00-namespaces.yaml')]);
  await k(['apply', '-f', join(fx, 'workload-group.yaml')]);
  await k(['patch', 'workloadgroup', 'redis-cache-fleet', '-n', 'caching', '--type=json', '-p', '[{"op":"remove","path":"/spec/template/spec/probes"}]']);
  await k(['create', 'serviceaccount', 'redis-sa', '-n', 'caching']);
  await k(['annotate', 'workloadgroup', 'redis-cache-fleet', '-n', 'caching', 'outpost.io/service-account=redis-sa']);
  // The trust roots as the cluster publishes them: what the client verifies against.
  jwtBundle = join(work, 'jwt-bundle.json');
  writeFileSync(jwtBundle, await k(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.jwt-bundle\\.json}']));
  writeFileSync(roots, await k(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.ca-bundle\\.crt}']));
  writeFileSync(join(work, 'token'), await k(['create', 'token', 'redis-sa', '-n', 'caching', '--duration=1h']));
  mkdirSync(join(work, 'state'), { mode: 0o700 });
  const l = cp.info.listeners;
  const config = join(work, 'proxy.yaml');
  writeFileSync(config, [
    'admin:\n  port: 0\n  address: 127.0.0.1', 'inbound:\n  port: 0\n  address: 127.0.31.1', 'outbound:\n  port: 0', 'tap:\n  port: 0\n  address: 127.0.31.1',
    `identity:\n  trustAnchors: ${roots}\n  tokenPath: ${join(work, 'token')}\n  endpoint: ${l.identity}\n  dir: ${join(work, 'state')}`,
    `destination:\n  endpoint: ${l.destination}`, `policy:\n  endpoint: ${l.policy}`, `health:\n  endpoint: ${l.health}`,
    'workload:\n  namespace: caching\n  group: redis-cache-fleet\n  address: 127.0.31.1',
    `spiffe:\n  enabled: true\n  socketPath: ${socket}\n  allowedUids: [${ALLOWED_OTHER_UID}]`,
  ].join('\n'));
  proxy = spawnOutpost(['proxy', '--config', config]);
  proxy.stdout!.on('data', (d) => (proxyLog += d));
  proxy.stderr!.on('data', (d) => (proxyLog += d));
  await waitFor('the Workload API socket', async () => (await run('test', ['-S', socket])).code === 0 || undefined, { timeoutMs: 30_000, intervalMs: 200 }).catch((e) => {
    throw new Error(`${(e as Error).message}\nproxy output:\n${proxyLog}`);
  });
});

after(async () => {
  proxy?.kill('SIGKILL');
  await cp?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('go-spiffe fetches the proxy\'s X.509-SVID and bundle; the chain verifies against the roots the cluster publishes', async () => {
  const r = await goClient(x509Args());
  assert.equal(r.code, 0, `${r.stderr}\nproxy output:\n${proxyLog}`);
  const got = JSON.parse(r.stdout);
  assert.equal(got.spiffeId, IDENTITY);
  assert.equal(got.verifiedId, IDENTITY, 'x509svid.Verify against the published roots');
  assert.equal(got.chainLength, 2, 'leaf and issuer');
  assert.equal(got.verifiedChainLength, 3, 'leaf, issuer, root');
  assert.equal(got.bundleTrustDomain, 'cluster.local');
  assert.equal(got.bundleMatchesRoots, true, 'the served bundle is the published roots');
  assert.equal(got.keyMatchesLeaf, true, 'the key served is the leaf\'s');
});

test('go-spiffe fetches the X.509 bundles alone (FetchX509Bundles): the published roots, for the one trust domain', async () => {
  const r = await goClient(['bundles', ...x509Args().slice(1)]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { trustDomains: 1, bundleRoots: 1, bundleMatchesRoots: true });
});

test('a rotation is pushed on the open stream within a second of the renewal', async () => {
  // 4 s certificates renew at 70 %: within 10 s the watcher sees a second, different certificate.
  const r = await goClient(['watch', ...x509Args().slice(1), '-updates', '2', '-timeout', '15s']);
  assert.equal(r.code, 0, `${r.stderr}\nproxy output:\n${proxyLog}`);
  const updates = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(updates.length >= 2, r.stdout);
  const [first, second] = updates.slice(-2);
  assert.notEqual(first.serial, second.serial);
  // Renewed at 70 % of the 4 s, not at once (the 20 s backdated notBefore must not make renewal due immediately).
  const apart = Date.parse(second.notBefore) - Date.parse(first.notBefore);
  assert.ok(apart >= 1_500 && apart <= 6_000, `consecutive certificates issued ${apart} ms apart: ${r.stdout}`);
  for (const u of updates) assert.equal(u.verifiedId, IDENTITY);
  // Issued (notBefore + 20 s clock-skew allowance, second precision) to received: under a second plus the truncation.
  const delay = second.receivedAtMs - (Date.parse(second.notBefore) + 20_000);
  assert.ok(delay < 2_000, `pushed ${delay} ms after issuance`);
});

test('a uid listed in spiffe.allowedUids receives the SVID; any other uid gets PermissionDenied', async () => {
  const allowed = await goClient(x509Args(), ALLOWED_OTHER_UID);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(JSON.parse(allowed.stdout).verifiedId, IDENTITY);
  const refused = await goClient(x509Args(), REFUSED_UID);
  assert.equal(refused.code, 2, `refused: ${refused.stdout}`);
  assert.match(refused.stderr, /code=PermissionDenied/);
  assert.equal(refused.stdout, '', 'no SVID printed');
  assert.match(proxyLog, new RegExp(`Workload API caller refused.*uid.*${REFUSED_UID}`));
});

test('go-spiffe fetches a JWT-SVID for the proxy\'s identity; it validates with go-spiffe\'s jwtbundle/jwtsvid against the served and the published bundle', async () => {
  const before = Math.floor(Date.now() / 1000);
  const r = await goClient([...jwtArgs('payments'), '-jwt-bundle', jwtBundle, '-trust-domain', 'cluster.local']);
  assert.equal(r.code, 0, `${r.stderr}\nproxy output:\n${proxyLog}`);
  const got = JSON.parse(r.stdout);
  assert.equal(got.spiffeId, IDENTITY, 'the subject is the identity of the proxy\'s certificate');
  assert.deepEqual(got.audience, ['payments']);
  assert.equal(got.publishedBundleId, IDENTITY, 'validates against jwt-bundle.json of ConfigMap outpost/outpost-identity-trust-roots');
  assert.equal(got.bundleMatchesPublished, true, 'FetchJWTBundles serves the published JWKS');
  const lifetime = Date.parse(got.expiry) / 1000 - got.issuedAt;
  assert.ok(lifetime === 300, `a 5-minute token, got ${lifetime} s`);
  assert.ok(got.issuedAt >= before - 1 && got.issuedAt <= before + 30, `issued now: iat ${got.issuedAt}`);
  const jwks = JSON.parse(readFileSync(jwtBundle, 'utf8'));
  assert.deepEqual(jwks.keys.map((key: { kty: string; crv: string; use: string }) => [key.kty, key.crv, key.use]), [['EC', 'P-256', 'jwt-svid']]);
});

test('a JWT-SVID goes to an allowed uid only: any other uid gets PermissionDenied', async () => {
  const allowed = await goClient(jwtArgs('payments'), ALLOWED_OTHER_UID);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(JSON.parse(allowed.stdout).spiffeId, IDENTITY);
  const refused = await goClient(jwtArgs('payments'), REFUSED_UID);
  assert.equal(refused.code, 2, `refused: ${refused.stdout}`);
  assert.match(refused.stderr, /code=PermissionDenied/);
  assert.equal(refused.stdout, '', 'no token printed');
});

test('ValidateJWTSVID accepts the token for its audience and refuses another audience or a forged signature', async () => {
  const Client = grpc.makeGenericClientConstructor(serviceDefinition('SpiffeWorkloadAPI'), 'SpiffeWorkloadAPI');
  const c = new Client(`unix://${socket}`, grpc.credentials.createInsecure()) as unknown as Record<string, (req: object, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: Record<string, unknown>) => void) => void>;
  const md = new grpc.Metadata();
  md.set('workload.spiffe.io', 'true');
  const unary = (method: string, req: object) => new Promise<{ err: grpc.ServiceError | null; res?: Record<string, unknown> }>((resolve) => c[method].call(c, req, md, (err, res) => resolve({ err, res })));
  try {
    const fetched = await unary('FetchJWTSVID', { audience: ['ledger', 'audit'] });
    assert.equal(fetched.err, null, fetched.err?.details);
    const svids = fetched.res!.svids as { spiffeId: string; svid: string }[];
    assert.equal(svids[0].spiffeId, IDENTITY);
    const token = svids[0].svid;
    const ok = await unary('ValidateJWTSVID', { audience: 'audit', svid: token });
    assert.equal(ok.err, null, ok.err?.details);
    assert.equal(ok.res!.spiffeId, IDENTITY);
    const claims = (ok.res!.claims as { fields: Record<string, { stringValue?: string }> }).fields;
    assert.equal(claims.sub.stringValue, IDENTITY);
    const other = await unary('ValidateJWTSVID', { audience: 'payments', svid: token });
    assert.equal(other.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(other.err!.details, /audience payments/);
    // Claims rewritten to another identity, signature kept: refused.
    const [h, , sig] = token.split('.');
    const forgedClaims = Buffer.from(JSON.stringify({ sub: 'spiffe://cluster.local/admin', aud: ['audit'], exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url');
    const forged = await unary('ValidateJWTSVID', { audience: 'audit', svid: `${h}.${forgedClaims}.${sig}` });
    assert.equal(forged.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(forged.err!.details, /bad signature/);
    const noAudience = await unary('FetchJWTSVID', { audience: [] });
    assert.equal(noAudience.err?.code, grpc.status.INVALID_ARGUMENT);
  } finally {
    (c as unknown as grpc.Client).close();
  }
});

test('a call without the security header workload.spiffe.io: true is refused with InvalidArgument', async () => {
  const Client = grpc.makeGenericClientConstructor(serviceDefinition('SpiffeWorkloadAPI'), 'SpiffeWorkloadAPI');
  const c = new Client(`unix://${socket}`, grpc.credentials.createInsecure()) as unknown as Record<string, (req: object, md?: grpc.Metadata) => grpc.ClientReadableStream<unknown>>;
  const codeOf = (md: grpc.Metadata) => new Promise<number>((resolve) => {
    const s = c.FetchX509SVID({}, md);
    s.on('data', () => resolve(grpc.status.OK));
    s.on('error', (e: grpc.ServiceError) => resolve(e.code));
  });
  const withHeader = new grpc.Metadata();
  withHeader.set('workload.spiffe.io', 'true');
  const wrong = new grpc.Metadata();
  wrong.set('workload.spiffe.io', 'yes');
  try {
    assert.equal(await codeOf(new grpc.Metadata()), grpc.status.INVALID_ARGUMENT);
    assert.equal(await codeOf(wrong), grpc.status.INVALID_ARGUMENT);
    assert.equal(await codeOf(withHeader), grpc.status.OK, 'the same client with the header is served');
  } finally {
    (c as unknown as grpc.Client).close();
  }
});
