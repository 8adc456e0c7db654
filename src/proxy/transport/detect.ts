// Protocol detection on a fresh connection: read just enough of the first bytes to tell HTTP/1.1,
// HTTP/2 prior knowledge, or anything else (opaque), then put the bytes back for the next layer.
import type { Socket } from 'node:net';
import type { Clock } from '../../core/clock.js';
import { detectProtocol, type Detected } from './header.js';

export type Detection = Exclude<Detected, 'more'>;

/** Calls `cb` once with the protocol; on timeout (a server-speaks-first protocol) it is opaque. */
export function detect(socket: Socket, clock: Clock, timeoutMs: number, cb: (kind: Detection) => void): void {
  let buf: Buffer | undefined;
  let settled = false;
  const settle = (kind: Detection) => {
    if (settled) return;
    settled = true;
    clock.clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.pause();
    if (buf) socket.unshift(buf);
    cb(kind);
  };
  const onData = (chunk: Buffer) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const kind = detectProtocol(buf);
    if (kind !== 'more') settle(kind);
  };
  const onEnd = () => settle('opaque');
  const timer = clock.setTimeout(() => settle('opaque'), timeoutMs);
  socket.on('data', onData);
  socket.once('end', onEnd);
}

/** Bidirectional byte pipe with half-close, idle timeout, and teardown of both sides on error. */
export function pipeBoth(a: Socket, b: Socket, idleMs: number): void {
  const destroyBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth);
  b.on('error', destroyBoth);
  a.on('close', () => b.end());
  b.on('close', () => a.end());
  a.setTimeout(idleMs, destroyBoth);
  b.setTimeout(idleMs, destroyBoth);
  a.pipe(b);
  b.pipe(a);
  a.resume();
}

/**
 * Gives a detected connection to an HTTP/1.1 server. The server reads the socket's handle directly,
 * so the bytes detection put back must be flushed by resuming the stream.
 */
export function handOver(server: { emit(event: 'connection', socket: Socket): boolean }, socket: Socket): void {
  server.emit('connection', socket);
  socket.resume();
}
