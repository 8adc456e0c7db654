// E2E helper: a "cluster" host and VM hosts as network namespaces on one /24 in 198.18.0.0/15, joined
// by a bridge that lives inside the cluster namespace (nothing is added to the root namespace). Each
// VM also has its own /etc and /var/lib (overlays on a tmpfs in a private mount namespace), so the
// bundle's install.sh runs as written without touching this machine. Processes started inside a
// host log to files; destroy() ends every process in the namespaces and deletes them.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '../support/cli.js';

export interface E2eHost {
  /** Role in the test, e.g. cluster, vm1. */
  name: string;
  ns: string;
  address: string;
  /** VMs: pid of the process holding the VM's mount namespace (entered with nsenter). */
  initPid?: number;
  /** With { ipv6: true }: the host's IPv6 address in 2001:2::/48 (the IPv6 benchmarking range). */
  address6?: string;
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

/** Runs inside a VM's fresh mount namespace: private /etc and /var/lib on a tmpfs, then holds the namespace. */
const VM_INIT = `set -e
mount -t tmpfs e2e-vm-disk "$1"
mkdir -p "$1/etc/upper" "$1/etc/work" "$1/var/upper" "$1/var/work"
mount -t overlay e2e-vm-etc -o "lowerdir=/etc,upperdir=$1/etc/upper,workdir=$1/etc/work" /etc
mount -t overlay e2e-vm-var -o "lowerdir=/var/lib,upperdir=$1/var/upper,workdir=$1/var/work" /var/lib
echo vm-ready
exec sleep infinity`;

/** The command prefix that runs inside a host: its network namespace, and a VM's mount namespace. */
function hostPrefix(host: E2eHost): string[] {
  return host.initPid ? ['nsenter', '-t', String(host.initPid), '-m', '-n', '--'] : ['ip', 'netns', 'exec', host.ns];
}

/** Every process still running in a network namespace (all of them started by this test). */
function killNamespaceProcesses(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
}

/**
 * cluster = 198.19.N.1 (the bridge), VMs = 198.19.N.11, .12, ... With { ipv6: true } each host also
 * has 2001:2:1:N::1, ::b, ::c, ... and the VMs a default route via the cluster host (as a real VM
 * has one: an address outside the /24, e.g. a Service's cluster IP, is then routable, hence capturable).
 */
export function createE2eNetwork(vmNames: string[], diskRoot: string, opts: { ipv6?: boolean } = {}): E2eNetwork {
  const id = randomBytes(3).toString('hex');
  const octet = 1 + (parseInt(id.slice(0, 2), 16) % 250);
  const subnet = `198.19.${octet}`;
  const cluster: E2eHost = { name: 'cluster', ns: `ope2e-cluster-${id}`, address: `${subnet}.1` };
  const vms: E2eHost[] = vmNames.map((name, i) => ({ name, ns: `ope2e-${name}-${id}`, address: `${subnet}.${11 + i}` }));
  const subnet6 = `2001:2:1:${octet.toString(16)}`;
  if (opts.ipv6) {
    cluster.address6 = `${subnet6}::1`;
    vms.forEach((vm, i) => (vm.address6 = `${subnet6}::${(11 + i).toString(16)}`));
  }
  const namespaces: string[] = [];
  const processes: HostProcess[] = [];
  const removeNamespaces = () => {
    for (const ns of namespaces) killNamespaceProcesses(ns);
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
    if (cluster.address6) ip('-n', cluster.ns, 'addr', 'add', `${cluster.address6}/64`, 'dev', 'br0', 'nodad');
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
      if (vm.address6) {
        ip('-n', vm.ns, 'addr', 'add', `${vm.address6}/64`, 'dev', 'eth0', 'nodad');
        ip('-n', vm.ns, 'route', 'add', 'default', 'via', cluster.address);
        ip('-n', vm.ns, '-6', 'route', 'add', 'default', 'via', cluster.address6!);
      }
    });
    for (const vm of vms) vm.initPid = startVmInit(vm, join(diskRoot, `disk-${vm.name}`));
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
      run(hostPrefix(host)[0], [...hostPrefix(host).slice(1), cmd, ...args], { env: { ...process.env, ...opts.env }, timeoutMs: opts.timeoutMs ?? 30_000 }),
    start(host, name, cmd, args, logFile, env) {
      const log = openSync(logFile, 'a', 0o600);
      // `ip netns exec` and nsenter exec the command, so the child's pid is the command's own.
      const [prefixCmd, ...prefixArgs] = hostPrefix(host);
      const child = spawn(prefixCmd, [...prefixArgs, cmd, ...args], { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
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

/** Starts the process that holds a VM's mount namespace; returns its pid once the overlays are up. */
function startVmInit(vm: E2eHost, disk: string): number {
  mkdirSync(disk, { recursive: true });
  // Detached, so that it is not tied to this process's stdio; `ip netns pids` finds it at the end.
  const log = openSync(`${disk}.log`, 'a', 0o600);
  const child = spawn('ip', ['netns', 'exec', vm.ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', VM_INIT, 'vm-init', disk], { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  child.unref();
  const deadline = Date.now() + 10_000;
  // Wait synchronously for the overlays (a few ms): poll /proc for the sleep that replaces the shell.
  while (Date.now() < deadline) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    } catch {
      throw new Error(`the mount namespace of ${vm.name} could not be set up: ${readFileSync(`${disk}.log`, 'utf8').trim()}`);
    }
    if (cmdline.startsWith('sleep')) return child.pid!;
    spawnSync('sleep', ['0.05']);
  }
  throw new Error(`the mount namespace of ${vm.name} was not ready within 10s`);
}
