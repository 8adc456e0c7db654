// node:http requests and HTTP/2 streams as HTTP exchanges (the lean relay's are in http1/exchange.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders as H2Headers, ServerHttp2Stream } from 'node:http2';
import { isGrpc, respondErrorH1, respondErrorH2 } from './errors.js';
import { joinedHeader, noop, type HttpExchange } from './exchange.js';
import { requestPath } from './headers.js';

function address(s: { remoteAddress?: string; remotePort?: number } | undefined): string {
  return `${s?.remoteAddress}:${s?.remotePort}`;
}

/** An HTTP/1.x request node:http parsed; `authority` is the one the stack routes by. */
export function nodeHttp1Exchange(req: IncomingMessage, res: ServerResponse, authority: string): HttpExchange {
  const h = req.headers;
  const hasBody = h['content-length'] !== undefined ? h['content-length'] !== '0' : h['transfer-encoding'] !== undefined;
  const x: HttpExchange = {
    method: req.method ?? 'GET',
    path: requestPath(req.url ?? '/'),
    authority,
    client: address(req.socket),
    grpc: false,
    hasBody,
    header: (name) => joinedHeader(h[name]),
    respond(error) {
      respondErrorH1(res, error);
      x.done(error.status, true);
    },
    sending: noop,
    done: noop,
    wire: { kind: 'h1', req, res },
  };
  return x;
}

/** An HTTP/2 stream; `client` is the connection it came on (the app, or the peer proxy). */
export function http2Exchange(stream: ServerHttp2Stream, headers: H2Headers, authority: string, client: string): HttpExchange {
  const grpc = isGrpc(headers['content-type']);
  const x: HttpExchange = {
    method: String(headers[':method'] ?? 'GET'),
    path: String(headers[':path'] ?? '/'),
    authority,
    client,
    grpc,
    hasBody: !stream.endAfterHeaders,
    header: (name) => joinedHeader(headers[name]),
    respond(error) {
      respondErrorH2(stream, error, grpc);
      x.done(error.status, true);
    },
    sending: noop,
    done: noop,
    wire: { kind: 'h2', stream, headers },
  };
  return x;
}

/** The client of an HTTP/2 stream: its session's socket. */
export function streamClient(stream: ServerHttp2Stream): string {
  return address(stream.session?.socket);
}
