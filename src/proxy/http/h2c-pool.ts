// Pooled cleartext HTTP/2 (prior knowledge) sessions to local or unmeshed apps, e.g. gRPC servers.
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';

export class H2cPool {
  private readonly sessions = new Map<string, ClientHttp2Session>();

  constructor(
    private readonly idleMs: number,
    /** Sees each new connection (the inbound marks its own local clients). */
    private readonly onSocket: (s: Socket) => void = () => {},
  ) {}

  get(host: string, port: number): ClientHttp2Session {
    const key = `${host}:${port}`;
    const existing = this.sessions.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = h2connect(`http://${key}`, { createConnection: () => {
        const socket = netConnect({ host, port, noDelay: true });
        this.onSocket(socket);
        return socket;
      },
    });
    this.sessions.set(key, session);
    const forget = () => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    };
    session.on('error', forget);
    session.once('close', forget);
    session.once('goaway', forget);
    session.setTimeout(this.idleMs, () => session.close());
    session.unref();
    return session;
  }

  close(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}
