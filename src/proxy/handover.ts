// Restart without an outage (docs/adr/0021): the proxy's listening sockets, by name, and their
// handover to a successor. On SIGHUP (`systemctl reload outpost-proxy`) the running proxy starts
// a new `outpost proxy` with the same arguments and hands it every listening socket over the
// child-process IPC channel (the kernel sockets themselves: nothing is closed or re-bound, so no
// connection is ever refused). Once the successor is serving it says so; the old proxy then stops
// accepting, lets its connections finish (until `timeouts.drain`), and exits after the last one.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, Socket as UdpSocketClass, type Socket as UdpSocket } from 'node:dgram';
import type { AddressInfo, Server } from 'node:net';
import type { Logger } from '../core/log.js';
import { isPackaged } from '../core/packaged.js';
import type { HealthState } from './probes/runner.js';

/** Set in a successor's environment: ask the parent for its listeners before listening. */
export const HANDOVER_ENV = 'OUTPOST_PROXY_HANDOVER';

/**
 * A TCP listener travels as its raw handle, not as a net.Server: the receiving side would start
 * accepting on a net.Server at once, before anything serves its connections. UDP as a dgram.Socket.
 */
type RawTcpHandle = { readonly fd?: number };
type Owned = Server | UdpSocket;
type Handed = RawTcpHandle | UdpSocket;
const wireHandleOf = (h: Owned): Handed => (h instanceof UdpSocketClass ? h : (h as unknown as { _handle: RawTcpHandle })._handle);
type Message = { op: 'hello' } | { op: 'listener'; name: string } | { op: 'done'; health?: HealthState } | { op: 'ready' };

/** What a successor receives: the listening sockets, and the health verdict to report until its own probes ran. */
export interface Inheritance {
  sockets: Map<string, Handed>;
  health?: HealthState;
}

/** Every listening socket of one proxy, by a stable name ("inbound", "outbound6", "upstream:…"). */
export class ListenerSet {
  readonly owned = new Map<string, Owned>();

  constructor(private readonly inherited = new Map<string, Handed>()) {}

  /** Listens on the socket the predecessor handed over under `name`, else on host:port. Resolves with the port. */
  tcp(name: string, server: Server, host: string, port: number, ipv6Only = false): Promise<number> {
    const handed = this.inherited.get(name) as RawTcpHandle | undefined;
    this.inherited.delete(name);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.removeListener('error', reject);
        this.owned.set(name, server);
        resolve((server.address() as AddressInfo).port);
      };
      if (handed) server.listen(handed as never, done);
      else server.listen({ host, port, ipv6Only }, done);
    });
  }

  /** A bound UDP socket: the predecessor's under `name`, else a new one bound to host:port. */
  udp(name: string, type: 'udp4' | 'udp6', host: string, port: number): Promise<UdpSocket> {
    const handed = this.inherited.get(name) as UdpSocket | undefined;
    this.inherited.delete(name);
    if (handed) {
      this.owned.set(name, handed);
      return Promise.resolve(handed);
    }
    const sock = createSocket({ type, ipv6Only: type === 'udp6' });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.removeListener('error', reject);
        this.owned.set(name, sock);
        resolve(sock);
      });
    });
  }

  /** Handed-over sockets this proxy did not take (its configuration changed): closed. */
  closeUnclaimed(): void {
    for (const h of this.inherited.values()) (h as { close(): void }).close();
    this.inherited.clear();
  }
}

/** In a successor: the pid of the proxy it replaces (its state-dir lock is handed over too). */
export function predecessorPid(): number | undefined {
  const pid = Number(process.env[HANDOVER_ENV]);
  return Number.isInteger(pid) && pid > 0 && pid === process.ppid ? pid : undefined;
}

/** In a successor: the parent's listening sockets (empty when this proxy was not started by one). */
export function receiveListeners(log: Logger, timeoutMs = 5000): Promise<Inheritance> {
  const got = new Map<string, Handed>();
  if (!process.env[HANDOVER_ENV] || !process.send) return Promise.resolve({ sockets: got });
  return new Promise((resolve) => {
    let health: HealthState | undefined;
    const finish = () => {
      clearTimeout(timer);
      process.removeListener('message', onMessage);
      log.info('took over the listening sockets of the proxy being replaced', { sockets: [...got.keys()], ready: health?.ready });
      resolve({ sockets: got, health });
    };
    const onMessage = (m: Message, handle?: Handed) => {
      if (m.op === 'listener' && handle) got.set(m.name, handle);
      else if (m.op === 'done') {
        health = m.health;
        finish();
      }
    };
    const timer = setTimeout(() => {
      log.warn('the proxy being replaced did not hand over its sockets; listening anew', { timeoutMs });
      finish();
    }, timeoutMs);
    process.on('message', onMessage);
    process.send!({ op: 'hello' });
  });
}

/**
 * In a successor, once serving: tells systemd it is now the service's main process (NOTIFY_SOCKET,
 * the unit's NotifyAccess=all), then the parent that it may retire, and lets the parent go.
 */
export function announceServing(log: Logger): void {
  if (!process.env[HANDOVER_ENV] || !process.send) return;
  if (process.env.NOTIFY_SOCKET) {
    const r = spawn('systemd-notify', [`MAINPID=${process.pid}`, 'READY=1'], { stdio: 'ignore' });
    r.on('error', (e) => log.warn('cannot tell systemd the new main pid', { reason: e.message }));
  }
  process.send({ op: 'ready' }, () => process.disconnect());
}

/**
 * In the running proxy, on SIGHUP: starts the successor and hands it `listeners`. `onServing` runs
 * when it serves (retire then); if it exits before, this proxy keeps serving (and says so).
 */
export function startSuccessor(listeners: ListenerSet, log: Logger, onServing: () => void, health?: () => HealthState | undefined): ChildProcess {
  // The packaged executable gets its own path as argv[1] from Node itself (src/cli/packaged-main.ts).
  const args = isPackaged() ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [HANDOVER_ENV]: String(process.pid) },
  });
  log.info('restarting: started the new proxy, handing it the listening sockets', { pid: child.pid });
  let serving = false;
  child.on('message', (m: Message) => {
    if (m.op === 'hello') {
      for (const [name, h] of listeners.owned) child.send({ op: 'listener', name }, wireHandleOf(h) as never);
      child.send({ op: 'done', health: health?.() });
    } else if (m.op === 'ready' && !serving) {
      serving = true;
      // The successor outlives this process: nothing of it may keep this one's event loop alive.
      child.unref();
      child.channel?.unref();
      log.info('the new proxy serves; this one stops accepting and drains', { successor: child.pid });
      onServing();
    }
  });
  child.on('exit', (code, signal) => {
    if (!serving) log.error('the new proxy exited before serving; this one keeps serving', { code, signal });
  });
  child.on('error', (e) => log.error('cannot start the new proxy; this one keeps serving', { reason: e.message }));
  return child;
}
