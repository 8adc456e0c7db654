// E2E helper: a "cluster" host and VM hosts as network namespaces on one /24 in 198.18.0.0/15, joined
// by a bridge that lives inside the cluster namespace (nothing is added to the root namespace), plus
// background processes started inside a host, with log files, all stopped and removed by destroy().
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { run, type RunResult } from '../support/cli.js';

export interface E2eHost {
  /** Role in the test, e.g. cluster, vm1. */
  name: string;
  ns: string;
  address: string;
}

export interface HostProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves when the process has exited (code or signal). */
  exited: Promise<void>;
}

export interface E2eNetwork {
  cluster: E2eHost;
  vms: E2eHost[];
  /** Runs a command to completion inside a host. */
  exec(host: E2eHost, cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult>;
  /** Starts a background command inside a host; output goes to logFile. */
  start(host: E2eHost, name: string, cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): HostProcess;
  /** SIGTERM, then SIGKILL after graceMs; resolves once it has exited. */
  stop(p: HostProcess, graceMs?: number): Promise<void>;
  /** The last lines of a process's log, for failure messages. */
  tail(p: HostProcess, lines?: number): string;
  /** Stops every process still running and deletes every namespace (safe to call twice). */
  destroy(): Promise<void>;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/** cluster = 198.18.N.1 (the bridge), VMs = 198.18.N.11, .12, ... */
export function createE2eNetwork(vmNames: string[]): E2eNetwork {
  const id = randomBytes(3).toString('hex');
  const octet = 1 + (parseInt(id.slice(0, 2), 16) % 250);
  const subnet = `198.19.${octet}`;
  const cluster: E2eHost = { name: 'cluster', ns: `ope2e-cluster-${id}`, address: `${subnet}.1` };
  const vms: E2eHost[] = vmNames.map((name, i) => ({ name, ns: `ope2e-${name}-${id}`, address: `${subnet}.${11 + i}` }));
  const namespaces: string[] = [];
  const processes: HostProcess[] = [];
  const removeNamespaces = () => {
    for (const ns of namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  };
  try {
    ip('netns', 'add', cluster.ns);
    namespaces.push(cluster.ns);
    ip('-n', cluster.ns, 'link', 'set', 'lo', 'up');
    ip('-n', cluster.ns, 'link', 'add', 'br0', 'type', 'bridge');
    spawnSync('ip', ['-n', cluster.ns, 'link', 'set', 'br0', 'type', 'bridge', 'nf_call_iptables', '0'], { stdio: 'ignore' });
    ip('-n', cluster.ns, 'addr', 'add', `${cluster.address}/24`, 'dev', 'br0');
    ip('-n', cluster.ns, 'link', 'set', 'br0', 'up');
    vms.forEach((vm, i) => {
      ip('netns', 'add', vm.ns);
      namespaces.push(vm.ns);
      const hostSide = `ope${id}h${i}`;
      const vmSide = `ope${id}v${i}`;
      ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', vmSide);
      // Move both ends at once into their namespaces; nothing stays in the root namespace.
      ip('link', 'set', hostSide, 'netns', cluster.ns);
      ip('link', 'set', vmSide, 'netns', vm.ns);
      ip('-n', cluster.ns, 'link', 'set', hostSide, 'master', 'br0');
      ip('-n', cluster.ns, 'link', 'set', hostSide, 'up');
      ip('-n', vm.ns, 'link', 'set', vmSide, 'name', 'eth0');
      ip('-n', vm.ns, 'addr', 'add', `${vm.address}/24`, 'dev', 'eth0');
      ip('-n', vm.ns, 'link', 'set', 'eth0', 'up');
      ip('-n', vm.ns, 'link', 'set', 'lo', 'up');
    });
  } catch (e) {
    removeNamespaces();
    throw e;
  }
  // A test that exits or is interrupted mid-way still removes its processes and namespaces.
  const onExit = () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    removeNamespaces();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    onExit();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const network: E2eNetwork = {
    cluster,
    vms,
    exec: (host, cmd, args, opts = {}) =>
      run('ip', ['netns', 'exec', host.ns, cmd, ...args], { env: { ...process.env, ...opts.env }, timeoutMs: opts.timeoutMs ?? 30_000 }),
    start(host, name, cmd, args, logFile, env) {
      const log = openSync(logFile, 'a', 0o600);
      // `ip netns exec` execs the command, so the child's pid is the command's own.
      const child = spawn('ip', ['netns', 'exec', host.ns, cmd, ...args], { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
      closeSync(log);
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        child.once('exit', () => resolve());
      });
      const p = { name, child, logFile, exited };
      processes.push(p);
      return p;
    },
    async stop(p, graceMs = 5000) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      p.child.kill('SIGTERM');
      await p.exited;
      clearTimeout(timer);
    },
    tail(p, lines = 15) {
      let text = '';
      try {
        text = readFileSync(p.logFile, 'utf8');
      } catch {}
      return `--- ${p.name} (${p.logFile}) ---\n` + text.trimEnd().split('\n').slice(-lines).join('\n');
    },
    async destroy() {
      await Promise.all(processes.map((p) => network.stop(p, 3000)));
      removeNamespaces();
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
  return network;
}
