// Pooled keep-alive connections for the HTTP/1.1 relay, one idle list per key (peer or local app).
// Idle connections are closed by one sweep per pool (every quarter of the idle time), not by a timer
// per connection: taking and giving back a connection costs no timer work on the request path.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export type Connector = () => Socket;

interface Idle {
  socket: Socket;
  /** performance.now() when it was given back. */
  since: number;
}

export class ConnectionPool {
  private readonly idle = new Map<string, Idle[]>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly idleMs: number) {}

  /** An idle connection for `key`, or a new one from `connect` (ready when `readyEvent` fires). */
  acquire(key: string, connect: Connector, readyEvent: 'connect' | 'secureConnect', cb: (err: Error | undefined, s?: Socket) => void): void {
    const list = this.idle.get(key);
    while (list && list.length) {
      const s = list.pop()!.socket;
      if (!s.destroyed && s.writable) return cb(undefined, s);
    }
    const s = connect();
    // One close listener per connection, whatever idle list it is in later.
    s.once('close', () => {
      const l = this.idle.get(key);
      const i = l ? l.findIndex((e) => e.socket === s) : -1;
      if (i >= 0) l!.splice(i, 1);
    });
    const onErr = (e: Error) => cb(e);
    s.once('error', onErr);
    s.once(readyEvent, () => {
      s.removeListener('error', onErr);
      s.on('error', () => {});
      cb(undefined, s);
    });
  }

  release(key: string, s: Socket): void {
    if (s.destroyed || !s.writable) return;
    let list = this.idle.get(key);
    if (!list) this.idle.set(key, (list = []));
    list.push({ socket: s, since: performance.now() });
    if (!this.sweeper && this.idleMs > 0) {
      this.sweeper = setInterval(() => this.sweep(), Math.max(50, this.idleMs / 4));
      this.sweeper.unref();
    }
  }

  /** Closes connections idle for idleMs or longer (the oldest are at the front of each list). */
  private sweep(): void {
    const cutoff = performance.now() - this.idleMs;
    let any = false;
    for (const [key, list] of this.idle) {
      while (list.length && list[0].since <= cutoff) list.shift()!.socket.destroy();
      if (list.length) any = true;
      else this.idle.delete(key);
    }
    if (!any) this.stopSweeping();
  }

  private stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Closes idle connections (rotation, drain). */
  drain(): void {
    for (const list of this.idle.values()) for (const e of list) e.socket.destroy();
    this.idle.clear();
    this.stopSweeping();
  }
}
