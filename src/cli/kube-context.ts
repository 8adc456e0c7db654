// How CLI commands find the API: --kubeconfig, else $KUBECONFIG, else DATA_DIR/kubeconfig written by
// `outpost up` (DATA_DIR from --data-dir, $OUTPOST_DATA_DIR or ~/.outpost).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { OutpostError } from '../core/errors.js';
import { defaultDataDir } from '../core/files.js';
import type { FlagSpecs } from '../core/flags.js';

export const KUBE_FLAGS = {
  kubeconfig: { type: 'string', help: 'kubeconfig of the API (default: $KUBECONFIG, else DATA_DIR/kubeconfig)' },
  'data-dir': { type: 'string', default: defaultDataDir(), help: "the control plane's data dir (for its kubeconfig and control-plane.json)" },
} satisfies FlagSpecs;

export function resolveKubeconfigPath(flags: { kubeconfig?: string; 'data-dir'?: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (flags.kubeconfig) return resolve(flags.kubeconfig);
  if (env.KUBECONFIG) return resolve(env.KUBECONFIG.split(':')[0]);
  return join(resolve(flags['data-dir'] ?? defaultDataDir(env)), 'kubeconfig');
}

export function loadKubeConfig(flags: { kubeconfig?: string; 'data-dir'?: string }): { kc: KubeConfig; path: string } {
  const path = resolveKubeconfigPath(flags);
  if (!existsSync(path)) {
    throw new OutpostError('API_UNREACHABLE', `no kubeconfig at ${path}`, { hint: 'start `outpost up` (or `outpost demo`), or pass --kubeconfig' });
  }
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return { kc, path };
}
