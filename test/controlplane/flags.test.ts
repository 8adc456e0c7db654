// The control plane's one flag table: typed values, defaults, environment variables, every bad value
// named with its reason, the slices handed to components, and the reference page generated from it.
// (The real `outpost up` process: flags-cli.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_PLANE_FLAGS, controlPlaneFlags, controlPlaneFlagsMarkdown, controlPlaneHelp, parseControlPlaneFlags } from '../../src/controlplane/flags.js';
import { destinationOptions, identityOptions, injectorOptions, policyOptions, vizOptions } from '../../src/controlplane/components.js';
import { fileURLToPath } from 'node:url';

test('defaults come from the table, typed', () => {
  const { flags } = parseControlPlaneFlags([], {});
  assert.equal(flags['identity-port'], 8080);
  assert.equal(flags['identity-issuance-lifetime'], 24 * 3_600_000);
  assert.equal(flags['default-inbound-policy'], 'all-unauthenticated');
  assert.deepEqual(flags['scrape-target'], []);
  assert.equal(flags.injector, false);
  assert.equal(flags['admin-port'], undefined, 'no --admin-port: the control plane picks 9990, or a free port with --api-port=0');
});

const bad: [string, string[], RegExp][] = [
  ['a policy that does not exist', ['--default-inbound-policy=nope'], /^--default-inbound-policy: expected all-unauthenticated, .*deny, got "nope"$/],
  ['a port out of range', ['--identity-port', '70000'], /^--identity-port: must be at most 65535, got 70000$/],
  ['a duration below its minimum', ['--scrape-interval=10ms'], /^--scrape-interval: must be at least 100ms, got 10ms$/],
  ['a token lifetime the API would refuse', ['--injector-token-expiration=5m'], /^--injector-token-expiration: must be at least 10m, got 5m$/],
  ['a malformed address', ['--injector-identity-address=identity'], /^--injector-identity-address: expected host:port, got "identity"$/],
  ['an unknown component', ['--components=identity,dns'], /^--components: unknown component "dns"/],
  ['a Service range with host bits', ['--service-cidr=10.96.0.1/12'], /^--service-cidr: "10.96.0.1\/12" has host bits set/],
  ['a malformed scrape target', ['--scrape-target=web'], /^--scrape-target: "web" is not NAMESPACE\/NAME=HOST:PORT/],
  ['an unknown log level', ['--log-level=loud'], /^--log-level: expected debug, info, warn, error, got "loud"$/],
  ['a listen address that is not an IP', ['--listen=localhost'], /^--listen: expected an IP address, got "localhost"$/],
  ['two ways to reach the API', ['--kubeconfig=/k', '--in-cluster'], /^--in-cluster: may not be given together with --kubeconfig$/],
  ['--in-cluster outside a pod', ['--in-cluster'], /^--in-cluster: KUBERNETES_SERVICE_HOST is not set \(not in a pod\?\)$/],
];
for (const [what, argv, message] of bad) {
  test(`refused, naming the flag: ${what}`, () => {
    assert.throws(() => parseControlPlaneFlags(argv, {}), (e: Error & { code?: string }) => ['INVALID_ARGUMENT', 'CONFIG_INVALID'].includes(e.code ?? '') && message.test(e.message));
  });
}

test('every bad value is reported at once, in one line', () => {
  assert.throws(
    () => parseControlPlaneFlags(['--identity-port=x', '--log-format=xml'], {}),
    (e: Error) => !e.message.includes('\n') && /--identity-port: expected an integer/.test(e.message) && /--log-format: expected text, json, got "xml"/.test(e.message),
  );
});

test('--in-cluster in a pod: the API address the kubelet sets is there', () => {
  assert.equal(parseControlPlaneFlags(['--in-cluster'], { KUBERNETES_SERVICE_HOST: '10.96.0.1' }).flags['in-cluster'], true);
});

test('an environment variable sets its flag; the command line wins', () => {
  assert.equal(parseControlPlaneFlags([], { OUTPOST_DATA_DIR: '/srv/outpost' }).flags['data-dir'], '/srv/outpost');
  assert.equal(parseControlPlaneFlags(['--data-dir=/tmp/x'], { OUTPOST_DATA_DIR: '/srv/outpost' }).flags['data-dir'], '/tmp/x');
});

test('programmatic settings (tests, the demo) are checked like the command line', () => {
  assert.equal(controlPlaneFlags({ 'policy-port': 0 })['policy-port'], 0);
  assert.throws(() => controlPlaneFlags({ 'default-inbound-policy': 'nope' as never }), /--default-inbound-policy: expected/);
  assert.throws(() => controlPlaneFlags({ 'no-such-flag': 1 } as never), /unknown flag --no-such-flag/);
});

test('each component gets its slice of the flags', () => {
  const flags = parseControlPlaneFlags(['--default-inbound-policy=deny', '--destination-queue=7', '--scrape-target=ns/web=127.0.0.1:4191', '--components=injector'], {}).flags;
  assert.deepEqual(policyOptions(flags), { port: 8090, defaultInboundPolicy: 'deny', queueCapacity: 7, podNaming: 'spiffe' });
  assert.deepEqual(vizOptions(flags).scrapeTargets, ['ns/web=127.0.0.1:4191']);
  assert.equal(injectorOptions(flags).enabled, true, '--components naming the injector turns it on');
  assert.equal(injectorOptions(parseControlPlaneFlags([], {}).flags).enabled, false);
  // --identity-naming reaches every user of the pod naming function, not only identity.
  const linkerd = parseControlPlaneFlags(['--identity-naming=linkerd'], {}).flags;
  assert.deepEqual([identityOptions(linkerd).podNaming, destinationOptions(linkerd).podNaming, policyOptions(linkerd).podNaming, vizOptions(linkerd).podNaming], ['linkerd', 'linkerd', 'linkerd', 'linkerd']);
  assert.throws(() => parseControlPlaneFlags(['--identity-naming=istio'], {}), /^OutpostError: --identity-naming: expected spiffe, linkerd, got "istio"$|--identity-naming: expected spiffe, linkerd, got "istio"/);
});

test('--help lists every flag of the table; with components, only theirs', () => {
  const all = controlPlaneHelp();
  for (const name of Object.keys(CONTROL_PLANE_FLAGS)) assert.match(all, new RegExp(`--${name}\\b`));
  const identityOnly = controlPlaneHelp(['identity']);
  assert.match(identityOnly, /--identity-issuer-cert/);
  assert.match(identityOnly, /--data-dir/);
  assert.doesNotMatch(identityOnly, /--scrape-interval|--policy-port/);
});

test('docs/reference/control-plane-flags.md is the table', () => {
  const path = join(fileURLToPath(import.meta.url), '..', '..', '..', 'docs', 'reference', 'control-plane-flags.md');
  if (process.env.OUTPOST_UPDATE_DOCS) writeFileSync(path, controlPlaneFlagsMarkdown());
  assert.equal(readFileSync(path, 'utf8'), controlPlaneFlagsMarkdown(), 'regenerate with OUTPOST_UPDATE_DOCS=1 node --import tsx --test test/controlplane/flags.test.ts');
});
