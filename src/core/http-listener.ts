// Starting and stopping an HTTP(S) server the same way in every component: `listen` resolves once
// bound (rejects on EADDRINUSE and the like) with the port it got; `close` stops accepting and
// ends every connection, idle ones at once and the rest after `graceMs` (keep-alive clients, TLS
// handshakes and long polls would otherwise hold `server.close()` open).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export interface HttpListener {
  port: number;
  close(graceMs?: number): Promise<void>;
}

export async function listen(server: Server, port: number, host: string): Promise<HttpListener> {
  const sockets = new Set<Duplex>();
  server.on('connection', (s: Duplex) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        const destroyAll = () => {
          for (const s of sockets) s.destroy();
        };
        if (graceMs > 0) setTimeout(destroyAll, graceMs).unref();
        else destroyAll();
      }),
  };
}
