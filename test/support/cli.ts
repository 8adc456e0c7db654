// Test helpers to run real commands: the `outpost` CLI (from source, through tsx) and real kubectl.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export { REPO_ROOT };
const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Runs `outpost ARGS` from source. */
export function outpost(args: string[], opts: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, ...opts });
}

/** Starts `outpost ARGS` in the background (e.g. `up`, `proxy`). */
export function spawnOutpost(args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Runs the real kubectl against a kubeconfig, with a private discovery cache. */
export function kubectl(kubeconfig: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', `${kubeconfig}.cache`, ...args], opts);
}

/** `outpost up` on free ports for every component: the ports it listens on (and the API's, unless the API is not embedded). */
export const FREE_COMPONENT_PORT_FLAGS = ['--admin-port', '0', '--viz-port', '0', '--identity-port', '0', '--destination-port', '0', '--policy-port', '0', '--health-port', '0'];
export const FREE_PORT_FLAGS = ['--api-port', '0', ...FREE_COMPONENT_PORT_FLAGS];
