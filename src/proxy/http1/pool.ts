// Pooled keep-alive connections for the HTTP/1.1 relay, one idle list per key (peer or local app).
import type { Socket } from 'node:net';

export type Connector = () => Socket;

export class ConnectionPool {
  private readonly idle = new Map<string, Socket[]>();

  constructor(private readonly idleMs: number) {}

  /** An idle connection for `key`, or a new one from `connect` (ready when `readyEvent` fires). */
  acquire(key: string, connect: Connector, readyEvent: 'connect' | 'secureConnect', cb: (err: Error | undefined, s?: Socket) => void): void {
    const list = this.idle.get(key);
    while (list && list.length) {
      const s = list.pop()!;
      if (!s.destroyed && s.writable) {
        s.setTimeout(0);
        s.removeAllListeners('timeout');
        return cb(undefined, s);
      }
    }
    const s = connect();
    // One close listener per connection, whatever idle list it is in later.
    s.once('close', () => {
      const l = this.idle.get(key);
      const i = l ? l.indexOf(s) : -1;
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
    list.push(s);
    s.setTimeout(this.idleMs, () => s.destroy());
  }

  /** Closes idle connections (rotation, drain). */
  drain(): void {
    for (const list of this.idle.values()) for (const s of list) s.destroy();
    this.idle.clear();
  }
}
