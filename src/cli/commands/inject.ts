// `outpost inject` / `outpost uninject`: reads manifests (files, or - for stdin), prints them with
// the inject annotation added (or, with --manual, fully injected; uninject: everything removed) on
// stdout, and one line per resource on stderr, like `linkerd inject`.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OutpostError } from '../../core/errors.js';
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { readControlPlaneInfo } from '../../core/control-plane-file.js';
import { defaultDataDir } from '../../core/files.js';
import { OUTPOST_VERSION } from '../../core/version.js';
import { defaultMeshSettings, DEFAULT_PROXY_IMAGE, type MeshSettings } from '../../inject/mesh.js';
import { formatReport, transformManifests, type TransformMode } from '../../inject/manifests.js';
import { localTrustAnchors } from '../trust-anchors.js';

const INJECT_FLAGS = {
  manual: { type: 'bool', help: 'write the proxy and outpost-init containers into the manifests (no injector webhook needed)' },
  'trust-anchors': { type: 'string', help: "with --manual: PEM file of the mesh's trust anchors (default: the running control plane's, from DATA_DIR/control-plane.json)" },
  'data-dir': { type: 'string', default: defaultDataDir(), help: "the control plane's data dir (for --manual's defaults)" },
  'trust-domain': { type: 'string', help: "with --manual: trust domain of pod identities (default: the control plane's, else cluster.local)" },
  'proxy-image': { type: 'string', default: DEFAULT_PROXY_IMAGE, help: 'with --manual: image repository of the proxy (tagged with the version)' },
  'control-plane-namespace': { type: 'string', default: 'outpost', help: 'with --manual: namespace of the control plane Services' },
  'identity-address': { type: 'string', help: 'with --manual: host:port of the identity service (default outpost-identity.NS.svc.cluster.local:8080)' },
  'destination-address': { type: 'string', help: 'with --manual: host:port of the destination service (default outpost-destination.NS.svc.cluster.local:8086)' },
  'policy-address': { type: 'string', help: 'with --manual: host:port of the policy service (default outpost-policy.NS.svc.cluster.local:8090)' },
} satisfies FlagSpecs;

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

function readInputs(positionals: string[]): { source: string; text: string }[] {
  if (positionals.length === 0) throw new OutpostError('INVALID_ARGUMENT', 'give one or more manifest files, or - to read stdin (e.g. `kubectl get deploy -o yaml | outpost inject - | kubectl apply -f -`)');
  return positionals.map((p) => {
    if (p === '-') return { source: 'stdin', text: readFileSync(0, 'utf8') };
    try {
      return { source: p, text: readFileSync(p, 'utf8') };
    } catch (e) {
      throw new OutpostError('INVALID_ARGUMENT', `cannot read ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  });
}

function manualMesh(flags: { 'trust-anchors'?: string; 'data-dir': string; 'trust-domain'?: string; 'proxy-image': string; 'control-plane-namespace': string; 'identity-address'?: string; 'destination-address'?: string; 'policy-address'?: string }): MeshSettings {
  const info = readControlPlaneInfo(resolve(flags['data-dir']));
  const trustAnchorsPem = localTrustAnchors(flags);
  for (const f of ['identity-address', 'destination-address', 'policy-address'] as const) {
    const v = flags[f];
    if (v !== undefined && !HOST_PORT.test(v)) throw new OutpostError('INVALID_ARGUMENT', `--${f}: "${v}" is not host:port`);
  }
  const ns = flags['control-plane-namespace'];
  return defaultMeshSettings({
    trustAnchorsPem,
    createdBy: `outpost/cli ${OUTPOST_VERSION}`,
    trustDomain: flags['trust-domain'] ?? info?.trustDomain,
    proxyImage: flags['proxy-image'],
    controlPlaneNamespace: ns,
    ...(flags['identity-address'] ? { identity: flags['identity-address'] } : {}),
    ...(flags['destination-address'] ? { destination: flags['destination-address'] } : {}),
    ...(flags['policy-address'] ? { policy: flags['policy-address'] } : {}),
  });
}

/** Shared by both commands: transform every input, print, fail on the first bad input. */
export function runTransform(action: 'inject' | 'uninject', argv: string[]): number {
  const specs = action === 'inject' ? INJECT_FLAGS : ({} satisfies FlagSpecs);
  const { flags, positionals, help } = parseFlags(argv, specs);
  if (help) {
    const what =
      action === 'inject'
        ? 'Adds the linkerd.io/inject: enabled annotation to the pod templates of Deployments, StatefulSets,\nDaemonSets, ReplicaSets, Jobs, CronJobs and Pods (and to Namespaces); --manual injects the proxy itself.'
        : 'Removes the Outpost proxy, outpost-init, their volumes and the inject annotations.';
    console.log(`Usage: outpost ${action} FILE... | -\n\n${what}\nOther resources are printed unchanged.\n\n${formatFlagHelp(specs)}`);
    return 0;
  }
  const inputs = readInputs(positionals);
  const f = flags as unknown as Parameters<typeof manualMesh>[0] & { manual?: boolean };
  const mode: TransformMode = action === 'uninject' ? { action } : f.manual ? { action, manual: true, mesh: manualMesh(f) } : { action, manual: false };
  const outputs: string[] = [];
  const report = [];
  for (const input of inputs) {
    const r = transformManifests(input.text, input.source, mode);
    if (r.errors.length > 0) throw new OutpostError('INVALID_ARGUMENT', r.errors.join('; '));
    outputs.push(r.output);
    report.push(...r.report);
  }
  process.stdout.write(outputs.map((o) => (o.endsWith('\n') ? o : o + '\n')).join('---\n'));
  if (report.length > 0) process.stderr.write(`\n${formatReport(report)}\n\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  return runTransform('inject', argv);
}
