// How CLI commands find the API: --kubeconfig, else $KUBECONFIG, else DATA_DIR/kubeconfig written by
// `outpost up` (DATA_DIR from --data-dir, $OUTPOST_DATA_DIR or ~/.outpost).
import { POD_NAMINGS, type PodNaming } from '../core/workloads/pod.js';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { OutpostError } from '../core/errors.js';
import { defaultDataDir } from '../core/files.js';
import type { FlagSpecs } from '../core/flags.js';
import { readControlPlaneInfo } from '../core/control-plane-file.js';
import { DEFAULT_TRUST_DOMAIN } from '../core/workloads/effective.js';
import { DEFAULT_POLICIES, isDefaultPolicy, type DefaultPolicy } from '../policy/compute.js';

export const KUBE_FLAGS = {
  kubeconfig: { type: 'string', help: 'kubeconfig of the API (default: $KUBECONFIG, else DATA_DIR/kubeconfig)' },
  'data-dir': { type: 'string', default: defaultDataDir(), help: "the control plane's data dir (for its kubeconfig and control-plane.json)" },
} satisfies FlagSpecs;

export function resolveKubeconfigPath(flags: { kubeconfig?: string; 'data-dir'?: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (flags.kubeconfig) return resolve(flags.kubeconfig);
  if (env.KUBECONFIG) return resolve(env.KUBECONFIG.split(':')[0]);
  const dataDir = resolve(flags['data-dir'] ?? defaultDataDir(env));
  const own = join(dataDir, 'kubeconfig');
  // A control plane started with `outpost up --kubeconfig` records the API it runs against.
  return existsSync(own) ? own : (readControlPlaneInfo(dataDir)?.kubeconfig ?? own);
}

/** The kubeconfig the flags name (resolveKubeconfigPath); a missing or unreadable file is an error naming the flag. */
export function loadKubeConfig(flags: { kubeconfig?: string; 'data-dir'?: string }): { kc: KubeConfig; path: string } {
  const path = resolveKubeconfigPath(flags);
  if (!existsSync(path)) {
    throw new OutpostError('API_UNREACHABLE', `no kubeconfig at ${path}`, { field: flags.kubeconfig ? 'kubeconfig' : 'data-dir', hint: 'start `outpost up` (or `outpost demo`), or pass --kubeconfig' });
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    throw new OutpostError('INVALID_ARGUMENT', `--kubeconfig: cannot read ${path}: ${(e as Error).message.split('\n')[0]}`, { field: 'kubeconfig' });
  }
  return { kc, path };
}

/** Flags for commands that compute as the control plane does (diagnostics, explain). */
export const MESH_SETTINGS_FLAGS = {
  'trust-domain': { type: 'string', help: `trust domain of default identities (default: the control plane's, from control-plane.json next to the kubeconfig, else ${DEFAULT_TRUST_DOMAIN})` },
  'default-inbound-policy': { type: 'string', help: "the cluster default inbound policy (default: the control plane's, else all-unauthenticated)" },
  'identity-naming': { type: 'string', oneOf: POD_NAMINGS, help: "how pods' certificates are named (default: the control plane's, else spiffe)" },
} satisfies FlagSpecs;

/**
 * The trust domain and default policy to compute with: the flags, else those the running control
 * plane recorded next to the kubeconfig (DATA_DIR/control-plane.json), else the defaults.
 */
export function meshSettings(flags: { 'trust-domain'?: string; 'default-inbound-policy'?: string; 'identity-naming'?: PodNaming }, kubeconfigPath: string): { trustDomain: string; defaultInboundPolicy: DefaultPolicy; podNaming: PodNaming } {
  const found = readControlPlaneInfo(dirname(kubeconfigPath));
  const running = found && resolve(found.kubeconfig) === resolve(kubeconfigPath) ? found : undefined;
  const policy = flags['default-inbound-policy'] ?? running?.defaultInboundPolicy ?? 'all-unauthenticated';
  if (!isDefaultPolicy(policy)) throw new OutpostError('INVALID_ARGUMENT', `--default-inbound-policy: expected one of ${DEFAULT_POLICIES.join(', ')}, got "${policy}"`, { field: 'default-inbound-policy' });
  const recorded = (POD_NAMINGS as readonly string[]).includes(running?.identityNaming ?? '') ? (running!.identityNaming as PodNaming) : undefined;
  return { trustDomain: flags['trust-domain'] ?? running?.trustDomain ?? DEFAULT_TRUST_DOMAIN, defaultInboundPolicy: policy, podNaming: flags['identity-naming'] ?? recorded ?? 'spiffe' };
}
