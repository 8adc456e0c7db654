// The demo's child processes (apps and `outpost proxy`), started with this same outpost command
// (same node, same loader) and optionally inside a network namespace; logs go to files. Every pid
// and network object is recorded in DATA_DIR/demo/run.json so that a demo killed with SIGKILL is
// cleaned up by the next run.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readIfExists, writePublicFile } from '../core/files.js';
import { isPackaged } from '../core/packaged.js';
import { destroyNetwork, type CreatedNetwork } from './network.js';

export interface DemoChild {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: boolean;
}

export interface RunState extends CreatedNetwork {
  pids: number[];
}

/** The command that runs this outpost CLI again: node, its loader flags (tsx from source), main; or the packaged executable alone. */
export function outpostCommand(): string[] {
  return isPackaged() ? [process.execPath] : [process.execPath, ...process.execArgv, process.argv[1]];
}

export function spawnDemoChild(name: string, prefix: string[], args: string[], logFile: string, onStdoutLine?: (line: string) => void): DemoChild {
  const [cmd, ...rest] = [...prefix, ...outpostCommand(), ...args];
  const log = openSync(logFile, 'a', 0o600);
  const child = spawn(cmd, rest, { stdio: ['ignore', onStdoutLine ? 'pipe' : log, log] });
  closeSync(log);
  const c: DemoChild = { name, child, logFile, exited: false };
  child.once('exit', () => (c.exited = true));
  if (onStdoutLine && child.stdout) createInterface({ input: child.stdout }).on('line', onStdoutLine);
  return c;
}

export function logTail(file: string, lines = 8): string {
  const text = readIfExists(file) ?? '';
  return text.trimEnd().split('\n').slice(-lines).map((l) => `      ${l}`).join('\n');
}

/** SIGTERM, then SIGKILL after graceMs; resolves when every child is gone. */
export async function stopChildren(children: DemoChild[], graceMs = 3000): Promise<void> {
  const alive = children.filter((c) => !c.exited && c.child.exitCode === null && c.child.signalCode === null);
  await Promise.all(
    alive.map(
      (c) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
          c.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          c.child.kill('SIGTERM');
        }),
    ),
  );
}

export const runStatePath = (demoDir: string) => join(demoDir, 'run.json');

export function saveRunState(demoDir: string, state: RunState): void {
  writePublicFile(runStatePath(demoDir), JSON.stringify(state, null, 2) + '\n');
}

function isOurProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('outpost') || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('main.');
  } catch {
    return false;
  }
}

/** Removes what an earlier demo run left behind (it was killed before it could clean up). Returns what was removed. */
export function cleanStaleRun(demoDir: string): string[] {
  const raw = readIfExists(runStatePath(demoDir));
  if (!raw) return [];
  const removed: string[] = [];
  try {
    const state = JSON.parse(raw) as RunState;
    for (const pid of state.pids ?? []) {
      if (pid !== process.pid && existsSync(`/proc/${pid}`) && isOurProcess(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
          removed.push(`process ${pid}`);
        } catch {}
      }
    }
    const net: CreatedNetwork = { netns: [...(state.netns ?? [])], links: [...(state.links ?? [])] };
    removed.push(...net.netns.map((n) => `netns ${n}`));
    destroyNetwork(net);
  } catch {}
  saveRunState(demoDir, { pids: [], netns: [], links: [] });
  return removed;
}
