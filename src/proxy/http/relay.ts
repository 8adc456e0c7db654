// Moving one HTTP exchange across a protocol boundary: responses (and gRPC trailers) relayed from an
// upstream stream to the downstream, reporting status and outcome once, when the exchange is over.
import type { ClientHttp2Stream, ServerHttp2Stream, IncomingHttpHeaders as H2Headers } from 'node:http2';
import type { ServerResponse, IncomingMessage } from 'node:http';
import { endToEndResponse, h1ResponseToH2, h2ResponseToH1, grpcStatusOf } from './headers.js';

/** Called once per exchange; `grpcStatus` is set for gRPC responses (from the trailers, or the headers of a trailers-only response). */
export type Done = (status: number, failure: boolean, grpcStatus?: number) => void;

/** HTTP/2 upstream -> HTTP/2 downstream, trailers included. */
export function relayH2ToH2(up: ClientHttp2Stream, down: ServerHttp2Stream, done: Done): void {
  let status = 0;
  let trailers: H2Headers | undefined;
  let finished = false;
  const finish = (st: number, failure: boolean, grpc: number | undefined) => {
    if (finished) return;
    finished = true;
    done(st, failure, grpc);
  };
  up.on('response', (h) => {
    status = Number(h[':status']);
    if (down.destroyed || down.closed) return;
    if (up.endAfterHeaders || h['grpc-status'] !== undefined) {
      // Trailers-only response (e.g. a gRPC error): one HEADERS frame ends the stream.
      trailers = h;
      down.respond(endToEndResponse(h) as never, { endStream: true });
      up.resume();
      return;
    }
    const grpc = String(h['content-type'] ?? '').startsWith('application/grpc');
    down.respond(endToEndResponse(h) as never, { waitForTrailers: grpc });
    if (grpc) down.once('wantTrailers', () => (trailers ? down.sendTrailers(trailers as never) : down.close()));
    up.pipe(down);
  });
  up.on('trailers', (t) => {
    trailers = {};
    for (const k in t) if (k.charCodeAt(0) !== 58) trailers[k] = t[k];
  });
  up.on('close', () => {
    if (status === 0) return; // handled by 'error' or the caller
    const grpc = grpcStatusOf(trailers);
    finish(status, status >= 500 || (grpc !== undefined && grpc !== 0), grpc);
  });
  // Cancel upstream only if the downstream went away early (a reset costs a frame per request otherwise).
  down.on('close', () => {
    if (!up.closed && !up.destroyed && down.rstCode !== 0) up.close(8 /* CANCEL */);
  });
}

/** HTTP/2 upstream (peer) -> HTTP/1.1 downstream (app). */
export function relayH2ToH1(up: ClientHttp2Stream, res: ServerResponse, done: Done): void {
  let status = 0;
  up.on('response', (h) => {
    status = Number(h[':status']);
    res.writeHead(status, h2ResponseToH1(h));
    if (up.endAfterHeaders) res.end();
    else up.pipe(res);
  });
  up.on('close', () => {
    if (status !== 0) done(status, status >= 500);
  });
  res.on('close', () => {
    if (!res.writableFinished && !up.closed && !up.destroyed) up.close(8 /* CANCEL */);
  });
}

/** HTTP/1.1 upstream (local app) -> HTTP/2 downstream (peer). */
export function relayH1ToH2(upRes: IncomingMessage, down: ServerHttp2Stream, done: Done): void {
  const status = upRes.statusCode ?? 502;
  if (!down.destroyed && !down.closed) {
    down.respond(h1ResponseToH2(status, upRes.headers) as never);
    upRes.pipe(down);
  }
  upRes.on('end', () => done(status, status >= 500));
  upRes.on('error', () => done(status, true));
}
