// Test helper: the real-Kubernetes bench (etcd + kube-apiserver + kube-controller-manager built from
// Go modules by scripts/real-kubernetes.sh) started in a temp dir for one test file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, REPO_ROOT } from './cli.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'real-kubernetes.sh');

export interface RealKubernetes {
  dir: string;
  /** Admin kubeconfig (system:masters client certificate, full TLS verification). */
  kubeconfig: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** The ServiceAccount token issuer the API server signs with. */
  issuer: string;
  /** The range the API server allocates Service cluster IPs from. */
  serviceCidr: string;
  /** kubectl against this cluster as admin. */
  kubectl(args: string[], input?: string): ReturnType<typeof run>;
  /** Stops exactly the bench's processes and removes the dir. */
  stop(): Promise<void>;
}

/**
 * Starts the bench. Fails (never skips) when the binaries are missing: `npm test` builds them
 * first, so a missing binary is a broken install, not a reason to pass.
 */
export async function startRealKubernetes(extraApiServerArgs: string[] = []): Promise<RealKubernetes> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-kube-'));
  const env = { ...process.env, KUBE_APISERVER_EXTRA_ARGS: extraApiServerArgs.join(' ') };
  const up = await run('bash', [SCRIPT, 'up', dir], { env, timeoutMs: 180_000 });
  if (up.code !== 0) {
    await run('bash', [SCRIPT, 'down', dir]);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the real-Kubernetes bench did not start (exit ${up.code}):\n${up.stderr}`);
  }
  const vars = Object.fromEntries(
    readFileSync(join(dir, 'env'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const kubeconfig = join(dir, 'kubeconfig');
  return {
    dir,
    kubeconfig,
    server: vars.API_SERVER,
    issuer: vars.SA_ISSUER,
    serviceCidr: vars.SERVICE_CIDR,
    kubectl: (args, input) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, timeoutMs: 60_000 }),
    async stop() {
      await run('bash', [SCRIPT, 'down', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
