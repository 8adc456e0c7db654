// `outpost workload onboard`: one command on the cluster side to mesh a VM — ServiceAccount,
// binding, ExternalWorkload, bootstrap token and an installable bundle (src/workload/); without a
// NAME, `--group G` writes one bundle for every VM of WorkloadGroup G (auto-registration);
// `outpost workload revoke [--undo]`: take a workload out of the mesh at once (docs/adr/0009).
import { readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { OutpostError } from '../../core/errors.js';
import { defaultDataDir } from '../../core/files.js';
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { readControlPlaneInfo } from '../../core/control-plane-file.js';
import { defaultLayout } from '../../workload/bundle.js';
import { chooseBundledBinary, copyBinaryIntoBundle, type BundledBinary } from '../../workload/binary.js';
import { isPackaged } from '../../core/packaged.js';
import { controlPlaneEndpoints } from '../../workload/endpoints.js';
import { onboardGroup } from '../../workload/group.js';
import { onboardWorkload, readExistingWorkload } from '../../workload/onboard.js';
import { revokeWorkload, unrevokeWorkload } from '../../workload/revoke.js';
import { KUBE_FLAGS, loadKubeConfig } from '../kube-context.js';
import { validateGroupOnboardRequest, validateOnboardRequest } from '../../workload/request.js';
import { checkUpstreamListeners, parseUpstreamFlag } from '../../workload/upstreams.js';
import { mergeProxyConfig } from '../../workload/config-merge.js';

const ONBOARD_FLAGS = {
  namespace: { type: 'string', short: 'n', help: 'namespace of the ExternalWorkload (created if missing)' },
  ip: { type: 'string', help: 'address the workload is reached at by its peers' },
  port: { type: 'list', help: 'a workload port, name:port[/TCP|UDP|SCTP]; repeat for several' },
  group: { type: 'string', help: 'join WorkloadGroup G (label workloadGroup=G; ports from its template when no --port); without NAME: a bundle for every VM of G' },
  label: { type: 'list', help: 'a label key=value for the ExternalWorkload (Services select on these); repeatable' },
  'service-account': { type: 'string', help: 'ServiceAccount the workload runs as (default: NAME; group bundle: the group\'s binding, else G)' },
  out: { type: 'string', help: 'bundle directory (default: ./NAME-bundle, or ./G-bundle)' },
  'token-duration': { type: 'duration', default: 3_600_000, help: 'lifetime of the bootstrap token; it is used once, at the first start' },
  'control-plane-host': { type: 'string', help: 'address the VM uses to reach identity/destination/policy/health (default: the API host)' },
  'inbound-port': { type: 'int', default: 4143, min: 1, max: 65535, help: "the proxy's inbound port on the VM (announced to peers)" },
  upstream: { type: 'list', help: 'a Service the app calls through a local listener: SERVICE.NS:PORT[=LISTEN] (default listen 127.0.0.1:PORT); repeatable' },
  renew: { type: 'bool', help: 'the workload exists: write a fresh token and bundle for it (re-enrol after the certificate expired)' },
  kubeconfig: { type: 'string', help: 'admin kubeconfig (default: DATA_DIR/kubeconfig)' },
  'data-dir': { type: 'string', default: defaultDataDir(), help: "a local control plane's data dir (kubeconfig, control-plane.json)" },
  'with-binary': { type: 'bool', default: isPackaged(), help: 'put this outpost executable in the bundle; install.sh installs it as /usr/bin/outpost (default: on when this is the packaged executable)' },
  binary: { type: 'string', help: 'put this executable in the bundle instead (e.g. dist-package/outpost from `npm run package`)' },
} satisfies FlagSpecs;

const USAGE = `Usage: outpost workload onboard NAME -n NS --ip IP [--port name:port[/proto] ...] [--group G] [--out DIR]
       outpost workload onboard --group G -n NS [--service-account SA] [--out DIR]

Creates or updates the ServiceAccount, its binding (annotation outpost.io/service-account) and the
ExternalWorkload, issues a short-lived bootstrap token and writes a bundle (ca.crt, token,
proxy-config.yaml, outpost-proxy.service, install.sh). Re-running is safe.

Without NAME, --group G binds WorkloadGroup G to the ServiceAccount and writes ONE bundle for every
VM of the group: each VM's install.sh [--address IP] fills in its address (default: the source
address of its route to the control plane) and its proxy registers itself as a group member.`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'onboard') return onboard(rest);
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(`${USAGE}\n\nFlags:\n${formatFlagHelp(ONBOARD_FLAGS)}\n\n${REVOKE_USAGE}`);
    return 0;
  }
  if (sub === 'revoke') return revoke(rest);
  if (sub === 'merge-config') return mergeConfigFiles(rest);
  throw new OutpostError('INVALID_ARGUMENT', `unknown subcommand "${sub}" (expected onboard or revoke)`);
}

async function onboard(argv: string[]): Promise<number> {
  const { flags, positionals, help } = parseFlags(argv, ONBOARD_FLAGS);
  if (help) {
    console.log(`${USAGE}\n\nFlags:\n${formatFlagHelp(ONBOARD_FLAGS)}`);
    return 0;
  }
  if (positionals.length === 0 && flags.group !== undefined) return onboardGroupBundle(flags);
  if (positionals.length > 1) throw new OutpostError('INVALID_ARGUMENT', `expected one workload NAME, got ${positionals.map((p) => `"${p}"`).join(', ')}`, { field: 'name' });
  const raw = { name: positionals[0], namespace: flags.namespace, ip: flags.ip, ports: flags.port, group: flags.group, serviceAccount: flags['service-account'], labels: flags.label, tokenDurationMs: flags['token-duration'], inboundPort: flags['inbound-port'] };
  // Catch bad input before touching the API.
  if (!flags.renew) validateOnboardRequest(raw);
  else if (!raw.name || !raw.namespace) validateOnboardRequest(raw);
  const binary = chooseBundledBinary(flags);
  const { kc } = loadKubeConfig(flags);
  if (flags.renew) {
    const existing = await readExistingWorkload(kc, raw.namespace!, raw.name!);
    if (!existing) throw new OutpostError('NOT_FOUND', `--renew: ExternalWorkload ${raw.namespace}/${raw.name} does not exist; onboard it first without --renew`, { field: 'renew' });
    raw.ip ??= existing.ip;
    if (raw.ports.length === 0) raw.ports = existing.ports;
    raw.group ??= existing.group;
    raw.serviceAccount ??= existing.serviceAccount;
  }
  const req = validateOnboardRequest(raw);
  const info = readControlPlaneInfo(resolve(flags['data-dir']));
  const endpoints = controlPlaneEndpoints(info?.listeners, kc.getCurrentCluster()?.server ?? '', flags['control-plane-host']);
  const bundleDir = resolve(flags.out ?? `${req.name}-bundle`);
  const layout = defaultLayout(req);
  layout.upstreams = flags.upstream.map((u) => parseUpstreamFlag(u));
  checkUpstreamListeners(layout.upstreams);
  const result = await onboardWorkload(req, { kubeConfig: kc, endpoints, layout, bundleDir, mergeConfig: flags.renew });
  const bundled = withBinary(bundleDir, binary);

  const shown = relative(process.cwd(), bundleDir) || '.';
  const lines = [
    `Onboarded ExternalWorkload ${req.namespace}/${req.name} (${req.ip}${req.group ? `, group ${req.group}` : ''}):`,
    ...(result.namespace === 'created' ? [`  namespace          ${req.namespace} created`] : []),
    `  serviceaccount     ${req.serviceAccount} ${result.serviceAccount}`,
    `  externalworkload   ${req.name} ${result.workload} (bound to serviceaccount ${req.serviceAccount})`,
    ...(req.ports.length === 0 && !req.group ? ['  ports              none: a client-only workload (it calls Services; add --port name:port for a Service to route to it)'] : []),
    `  bootstrap token    valid until ${result.tokenExpiresAt.toISOString()} (used once, at the proxy's first start)`,
    `  control plane      identity ${endpoints.identity}, destination ${endpoints.destination}, policy ${endpoints.policy}, health ${endpoints.health}`,
    '',
    `Bundle written to ${shown}/: ${[...result.bundle.files.map((f) => f.name), ...bundled.files].join(', ')}`,
    bundled.line,
    ...(layout.upstreams.length ? [`  upstreams          ${layout.upstreams.map((u) => `${u.service}:${u.port} at ${u.listen}`).join(', ')}`] : []),
    ...(result.configChanges ? [`  proxy-config.yaml  merged with the one in ${shown}/ (${result.configChanges.length ? result.configChanges.join('; ') : 'nothing of yours to keep'})`] : []),
    '',
    'On the VM, run:',
    ...result.bundle.vmCommands.map((c) => `  ${c}`),
    '',
    `Drop --capture to skip transparent capture (then point the app at the proxy: outbound 127.0.0.1:4140).`,
    `Check it: kubectl get externalworkload ${req.name} -n ${req.namespace}`,
  ];
  console.log(lines.join('\n'));
  return 0;
}

/** `outpost workload merge-config INSTALLED NEW` (install.sh): NEW merged into INSTALLED, changes printed. */
function mergeConfigFiles(argv: string[]): number {
  const { positionals, help } = parseFlags(argv, {});
  if (help || positionals.length !== 2) {
    console.log('Usage: outpost workload merge-config INSTALLED NEW\n\nMerges a new bundle\'s proxy-config.yaml (NEW) into INSTALLED: the control-plane, identity and workload\nsettings come from NEW; everything else set in INSTALLED (upstreams, dns, timeouts, ...) is kept.');
    if (help) return 0;
    throw new OutpostError('INVALID_ARGUMENT', `merge-config: expected INSTALLED and NEW files, got ${positionals.length} argument(s)`);
  }
  const [installed, fresh] = positionals;
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (e) {
      throw new OutpostError('INVALID_ARGUMENT', `merge-config: cannot read ${f}: ${(e as Error).message}`);
    }
  };
  let merged: ReturnType<typeof mergeProxyConfig>;
  try {
    merged = mergeProxyConfig(read(installed), read(fresh), { installed, fresh });
  } catch (e) {
    throw new OutpostError('CONFIG_INVALID', `merge-config: ${(e as Error).message}`);
  }
  writeFileSync(installed, merged.text, { mode: 0o644 });
  console.log(`${installed}: merged with the new bundle${merged.changes.length ? '' : ' (nothing of yours to keep)'}`);
  for (const c of merged.changes) console.log(`  ${c}`);
  return 0;
}

/** Copies the chosen executable into the bundle; the summary line says what install.sh will run. */
function withBinary(bundleDir: string, binary: BundledBinary | undefined): { files: string[]; line: string } {
  if (!binary) return { files: [], line: 'No executable in the bundle (--with-binary or --binary PATH adds one): install.sh runs the outpost on the VM\'s PATH.' };
  copyBinaryIntoBundle(bundleDir, binary);
  return { files: ['outpost'], line: `The bundle carries ${binary.version}; install.sh installs it as /usr/bin/outpost unless that version is already there.` };
}

/** Flags that describe one workload, meaningless for a group bundle. */
const PER_WORKLOAD_FLAGS = ['ip', 'port', 'label', 'renew'] as const;

async function onboardGroupBundle(flags: ReturnType<typeof parseFlags<typeof ONBOARD_FLAGS>>['flags']): Promise<number> {
  for (const flag of PER_WORKLOAD_FLAGS) {
    const value = flags[flag];
    if (Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false) {
      throw new OutpostError('INVALID_ARGUMENT', `--${flag}: describes one workload; a group bundle (no NAME) gives every VM its own address at install time, and the ports come from the group template`, { field: flag });
    }
  }
  if (flags['inbound-port'] !== 4143) throw new OutpostError('INVALID_ARGUMENT', '--inbound-port: a group bundle takes it from the group template (annotation config.outpost.io/proxy-inbound-port)', { field: 'inbound-port' });
  const req = validateGroupOnboardRequest({ namespace: flags.namespace, group: flags.group, serviceAccount: flags['service-account'], tokenDurationMs: flags['token-duration'] });
  const binary = chooseBundledBinary(flags);
  const { kc } = loadKubeConfig(flags);
  const info = readControlPlaneInfo(resolve(flags['data-dir']));
  const endpoints = controlPlaneEndpoints(info?.listeners, kc.getCurrentCluster()?.server ?? '', flags['control-plane-host']);
  const bundleDir = resolve(flags.out ?? `${req.group}-bundle`);
  const result = await onboardGroup(req, { kubeConfig: kc, endpoints, layout: (inboundPort) => defaultLayout({ inboundPort }), bundleDir });
  const bundled = withBinary(bundleDir, binary);

  const shown = relative(process.cwd(), bundleDir) || '.';
  const sa = result.serviceAccount.name;
  const binding = result.binding === 'updated' ? `updated (was ${result.previousServiceAccount})` : result.binding;
  const lines = [
    `Prepared WorkloadGroup ${req.namespace}/${req.group} for auto-registration:`,
    `  serviceaccount     ${sa} ${result.serviceAccount.change}`,
    `  workloadgroup      ${req.group} bound to serviceaccount ${sa}: ${binding}`,
    `  bootstrap token    valid until ${result.tokenExpiresAt.toISOString()} (each VM uses it once, at its proxy's first start)`,
    `  control plane      identity ${endpoints.identity}, destination ${endpoints.destination}, policy ${endpoints.policy}, health ${endpoints.health}`,
    '',
    `Bundle written to ${shown}/: ${[...result.bundle.files.map((f) => f.name), ...bundled.files].join(', ')}`,
    bundled.line,
    '',
    'On EVERY VM of the group (the same bundle for all; VM is its address), run:',
    ...result.bundle.vmCommands.map((c) => `  ${c}`),
    '',
    `install.sh registers the VM under the source address of its route to the control plane; pass --address IP to choose it.`,
    `Each VM appears as ExternalWorkload ${req.group}-<address> with the group template applied.`,
    `Drop --capture to skip transparent capture (then point the app at the proxy: outbound 127.0.0.1:4140).`,
    `For VMs added after the token expires, run this command again: it writes a fresh token.`,
    `Check it: kubectl get externalworkloads -n ${req.namespace} -l workloadGroup=${req.group}`,
  ];
  console.log(lines.join('\n'));
  return 0;
}

const REVOKE_FLAGS = {
  namespace: { type: 'string', short: 'n', help: 'namespace of the ExternalWorkload' },
  reason: { type: 'string', help: 'why (recorded in annotation outpost.io/revoked-reason and on the deny list)' },
  undo: { type: 'bool', help: 'lift the revocation: remove the annotations and the deny-list entry' },
  ...KUBE_FLAGS,
} satisfies FlagSpecs;

const REVOKE_USAGE = `Usage: outpost workload revoke NAME -n NS [--reason TEXT] [--undo]

Revokes the ExternalWorkload: it leaves every Service's endpoints within a second, its certificate is
no longer renewed, and every proxy refuses its current certificate within seconds (the deny list in
ConfigMap outpost/outpost-revocations). Re-running is safe; --undo lifts it.`;

async function revoke(argv: string[]): Promise<number> {
  const { flags, positionals, help } = parseFlags(argv, REVOKE_FLAGS);
  if (help) {
    console.log(`${REVOKE_USAGE}\n\nFlags:\n${formatFlagHelp(REVOKE_FLAGS)}`);
    return 0;
  }
  if (positionals.length !== 1) throw new OutpostError('INVALID_ARGUMENT', positionals.length ? `expected one workload NAME, got ${positionals.map((p) => `"${p}"`).join(', ')}` : 'expected the workload NAME: outpost workload revoke NAME -n NS', { field: 'name' });
  if (!flags.namespace) throw new OutpostError('INVALID_ARGUMENT', '-n/--namespace is required', { field: 'namespace' });
  if (flags.undo && flags.reason !== undefined) throw new OutpostError('INVALID_ARGUMENT', '--reason does not go with --undo', { field: 'reason' });
  const req = { namespace: flags.namespace, name: positionals[0], reason: flags.reason };
  const ref = `ExternalWorkload ${req.namespace}/${req.name}`;
  const { kc } = loadKubeConfig(flags);
  if (flags.undo) {
    const r = await unrevokeWorkload(kc, req);
    const what = r.workload === 'unrevoked' ? 'revocation lifted' : r.workload === 'not-revoked' ? 'was not revoked' : 'no longer exists';
    console.log(`${ref}: ${what}; deny list ${r.denyList === 'removed' ? 'entry removed' : 'unchanged'}.`);
    if (r.workload === 'unrevoked') console.log('It rejoins its Services once its proxy reports ready; its proxy needs a new certificate if the old one expired (outpost workload onboard --renew).');
    return 0;
  }
  const r = await revokeWorkload(kc, req);
  console.log(
    [
      `${ref} ${r.workload === 'already-revoked' ? 'was already revoked' : 'revoked'} at ${r.entry!.revokedAt}${r.entry!.reason ? ` (${r.entry!.reason})` : ''}:`,
      '  endpoints     removed from every Service',
      '  certificate   renewals refused',
      `  deny list     ${r.denyList === 'added' ? 'added' : 'already listed'}: peers refuse certificates for ${r.entry!.serverName}`,
      `Undo: outpost workload revoke --undo ${req.name} -n ${req.namespace}`,
    ].join('\n'),
  );
  return 0;
}
