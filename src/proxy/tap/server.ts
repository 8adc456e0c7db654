// The tap server (default 4190): gRPC `outpost.tap.v1.Tap/Observe` over HTTP/2 with mTLS; only the
// viz identity (or those configured) may connect. Events are produced only while a stream is open
// (TapHub.active). Speaks gRPC framing directly (tap/codec.ts), so no gRPC library is loaded.
import { createSecureServer, type ServerHttp2Stream, type ServerHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ProxyContext } from '../context.js';
import { serverTlsOptions, uriSans } from '../tls/identity.js';
import { guardListener } from '../transport/pending-guard.js';
import { decodeObserveRequest, encodeTapEvent, grpcFrame, readGrpcMessage } from './codec.js';
import type { ListenerSet } from '../handover.js';

const OBSERVE_PATH = '/outpost.tap.v1.Tap/Observe';
const GRPC_OK = '0';
const GRPC_INVALID_ARGUMENT = '3';
const GRPC_PERMISSION_DENIED = '7';
const GRPC_UNIMPLEMENTED = '12';

/** The identities allowed to tap: configured, else the viz identity in our own trust domain. */
export function tapIdentities(ctx: ProxyContext): string[] {
  if (ctx.config.tap.identities.length) return ctx.config.tap.identities;
  const own = ctx.tls.creds?.identity ?? '';
  const td = /^spiffe:\/\/([^/]+)/.exec(own)?.[1] ?? 'cluster.local';
  return [`spiffe://${td}/ns/outpost/sa/outpost-viz`];
}

function trailersOnly(stream: ServerHttp2Stream, status: string, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': status, 'grpc-message': encodeURIComponent(message) }, { endStream: true });
}

export async function startTapServer(ctx: ProxyContext, listeners?: ListenerSet): Promise<{ port: number; close(): void }> {
  const tlsOptions = () => ({ ...serverTlsOptions(ctx.tls.creds!), ALPNProtocols: ['h2'] });
  const server = createSecureServer({ ...tlsOptions(), allowHTTP1: false, handshakeTimeout: ctx.config.timeouts.tlsHandshakeMs });
  guardListener(ctx, 'tap', server);
  const unsubscribe = ctx.tls.onRotate(() => server.setSecureContext(tlsOptions() as never));
  server.on('sessionError', () => {});
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {});
    const socket = stream.session?.socket as TLSSocket | undefined;
    const ids = uriSans(socket?.getPeerCertificate?.()?.subjectaltname);
    if (headers[':path'] !== OBSERVE_PATH) return trailersOnly(stream, GRPC_UNIMPLEMENTED, `unknown method ${headers[':path']}`);
    if (!ids.some((id) => tapIdentities(ctx).includes(id))) return trailersOnly(stream, GRPC_PERMISSION_DENIED, `identity ${ids[0] ?? '<none>'} may not tap this proxy`);
    let buf = Buffer.alloc(0);
    let started = false;
    stream.on('data', (chunk: Buffer) => {
      if (started) return;
      buf = Buffer.concat([buf, chunk]);
      let msg: Buffer | undefined;
      try {
        msg = readGrpcMessage(buf);
        if (!msg) return;
        started = true;
        observe(stream, decodeObserveRequest(msg));
      } catch (e) {
        trailersOnly(stream, GRPC_INVALID_ARGUMENT, (e as Error).message);
      }
    });
  });

  const observe = (stream: ServerHttp2Stream, req: ReturnType<typeof decodeObserveRequest>) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': GRPC_OK }));
    let left = req.limit || Infinity;
    const stop = ctx.tap.subscribe({ method: req.method, pathPrefix: req.pathPrefix, authority: req.authority }, (e) => {
      if (left <= 0 || stream.destroyed) return;
      left--;
      stream.write(grpcFrame(encodeTapEvent(e)));
      if (left === 0) {
        stop();
        stream.end();
      }
    });
    stream.once('close', stop);
  };

  const port = listeners
    ? await listeners.tcp('tap', server, ctx.config.tap.host, ctx.config.tap.port)
    : await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(ctx.config.tap.port, ctx.config.tap.host, () => resolve((server.address() as AddressInfo).port));
      });
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  return {
    port,
    close: () => {
      unsubscribe();
      server.close();
      for (const s of sessions) s.destroy();
    },
  };
}
