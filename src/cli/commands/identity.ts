// `outpost identity certify` obtains a workload certificate with a bootstrap token (writes proxy.crt
// and proxy.key, like the proxy would); `outpost identity trust-roots` prints the published trust anchors.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { OutpostError } from '../../core/errors.js';
import { defaultDataDir } from '../../core/files.js';
import { readControlPlaneInfo } from '../../core/control-plane-file.js';
import { WorkloadIdentityClient } from '../../proxy/identity/client.js';
import { persistCertificate, persistKey, statePaths } from '../../proxy/identity/state.js';
import { loadKubeConfig } from '../kube-context.js';
import { TRUST_ROOTS_CONFIGMAP, TRUST_ROOTS_KEY, TRUST_ROOTS_NAMESPACE } from '../../identity/kube.js';
import { readTrustAnchorsFile } from '../trust-anchors.js';

const TRUST_ROOTS = { namespace: TRUST_ROOTS_NAMESPACE, name: TRUST_ROOTS_CONFIGMAP, key: TRUST_ROOTS_KEY };

const CERTIFY_FLAGS = {
  token: { type: 'string', help: 'file holding the ServiceAccount token (kubectl create token SA -n NS --duration=1h > FILE)' },
  workload: { type: 'string', help: 'the ExternalWorkload, as NAMESPACE/NAME' },
  'trust-anchors': { type: 'string', help: 'PEM trust anchors that the identity service must chain to (ca.crt)' },
  out: { type: 'string', help: 'directory to write proxy.crt (leaf + chain) and proxy.key (0600) to' },
  'identity-addr': { type: 'string', help: 'host:port of the identity service (default: from DATA_DIR/control-plane.json, else 127.0.0.1:8080)' },
  'data-dir': { type: 'string', default: defaultDataDir(), help: 'data dir of a local control plane' },
} satisfies FlagSpecs;

const TRUST_ROOTS_FLAGS = {
  kubeconfig: { type: 'string', help: 'kubeconfig of the API (default: DATA_DIR/kubeconfig)' },
  'data-dir': { type: 'string', default: defaultDataDir(), help: 'data dir of a local control plane' },
} satisfies FlagSpecs;

const USAGE = `Usage:
  outpost identity certify --token FILE --workload NS/NAME --trust-anchors ca.crt --out DIR [--identity-addr HOST:PORT]
  outpost identity trust-roots [--kubeconfig FILE]`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'certify') return certify(rest);
  if (sub === 'trust-roots') return trustRoots(rest);
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(`${USAGE}\n\ncertify flags:\n${formatFlagHelp(CERTIFY_FLAGS)}\n\ntrust-roots flags:\n${formatFlagHelp(TRUST_ROOTS_FLAGS)}`);
    return 0;
  }
  throw new OutpostError('INVALID_ARGUMENT', `unknown subcommand "${sub}" (expected certify or trust-roots)`);
}

function readFlagFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new OutpostError('INVALID_ARGUMENT', `--${flag}: cannot read ${path}`, { field: flag });
  }
}

async function certify(argv: string[]): Promise<number> {
  const { flags, help } = parseFlags(argv, CERTIFY_FLAGS);
  if (help) {
    console.log(`Usage: outpost identity certify --token FILE --workload NS/NAME --trust-anchors ca.crt --out DIR\n\n${formatFlagHelp(CERTIFY_FLAGS)}`);
    return 0;
  }
  const missing = (['token', 'workload', 'trust-anchors', 'out'] as const).filter((f) => !flags[f]);
  if (missing.length) throw new OutpostError('INVALID_ARGUMENT', `missing ${missing.map((f) => `--${f}`).join(', ')}`);
  const [namespace, name, ...extra] = flags.workload!.split('/');
  if (!namespace || !name || extra.length) throw new OutpostError('INVALID_ARGUMENT', `--workload: expected NAMESPACE/NAME, got "${flags.workload}"`, { field: 'workload' });
  const token = readFlagFile('token', flags.token!).trim();
  if (!token) throw new OutpostError('INVALID_ARGUMENT', `--token: ${flags.token} is empty`, { field: 'token' });
  const trustAnchorsPem = readTrustAnchorsFile(flags['trust-anchors']!);
  const identityAddr = flags['identity-addr'] ?? readControlPlaneInfo(resolve(flags['data-dir']))?.listeners.identity ?? '127.0.0.1:8080';
  const client = new WorkloadIdentityClient({ identityAddr, trustAnchorsPem, workload: { namespace, name }, token: () => token });
  try {
    const creds = await client.start();
    const out = resolve(flags.out!);
    persistKey(out, creds.keyPem);
    persistCertificate(out, creds);
    const p = statePaths(out);
    console.log(`wrote ${p.cert} and ${p.key}`);
    console.log(`  identity     ${creds.identity}`);
    console.log(`  serverName   ${creds.serverName}`);
    console.log(`  valid until  ${new Date(creds.notAfter).toISOString()}`);
    return 0;
  } finally {
    client.close();
  }
}

async function trustRoots(argv: string[]): Promise<number> {
  const { flags, help } = parseFlags(argv, TRUST_ROOTS_FLAGS);
  if (help) {
    console.log(`Usage: outpost identity trust-roots [--kubeconfig FILE]\n\nPrints ConfigMap outpost/outpost-identity-trust-roots (key ca-bundle.crt).\n\n${formatFlagHelp(TRUST_ROOTS_FLAGS)}`);
    return 0;
  }
  const { kc } = loadKubeConfig(flags);
  let bundle: string | undefined;
  try {
    const cm = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: TRUST_ROOTS.namespace, name: TRUST_ROOTS.name });
    bundle = cm.data?.[TRUST_ROOTS.key];
  } catch (e) {
    if ((e as { code?: number }).code === 404) {
      throw new OutpostError('NOT_FOUND', `ConfigMap ${TRUST_ROOTS.namespace}/${TRUST_ROOTS.name} does not exist`, { hint: 'the identity component publishes it when `outpost up` starts' });
    }
    throw new OutpostError('API_UNREACHABLE', `cannot read the trust roots from ${kc.getCurrentCluster()?.server ?? 'the API'}: ${(e as Error).message}`);
  }
  if (!bundle) throw new OutpostError('NOT_FOUND', `ConfigMap ${TRUST_ROOTS.namespace}/${TRUST_ROOTS.name} has no ${TRUST_ROOTS.key}`);
  process.stdout.write(bundle.endsWith('\n') ? bundle : bundle + '\n');
  return 0;
}
