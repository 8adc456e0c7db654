// node:http requests and HTTP/2 streams as HTTP exchanges (the lean relay's are in http1/exchange.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders as H2Headers, ServerHttp2Stream } from 'node:http2';
import { isGrpc, respondErrorH1, respondErrorH2, type ProxyError } from './errors.js';
import { HttpExchange, joinedHeader, type Http2Wire, type NodeHttp1Wire } from './exchange.js';
import { requestPath } from './headers.js';

function address(s: { remoteAddress?: string; remotePort?: number } | undefined): string {
  return `${s?.remoteAddress}:${s?.remotePort}`;
}

/** An HTTP/1.x request node:http parsed; `authority` is the one the stack routes by. */
export class NodeHttp1Exchange extends HttpExchange implements NodeHttp1Wire {
  readonly kind = 'h1';
  readonly method: string;
  readonly path: string;
  readonly client: string;
  readonly grpc = false;
  readonly hasBody: boolean;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly authority: string,
  ) {
    super();
    const h = req.headers;
    this.method = req.method ?? 'GET';
    this.path = requestPath(req.url ?? '/');
    this.client = address(req.socket);
    this.hasBody = h['content-length'] !== undefined ? h['content-length'] !== '0' : h['transfer-encoding'] !== undefined;
  }

  get wire(): NodeHttp1Wire {
    return this;
  }

  header(name: string): string | undefined {
    return joinedHeader(this.req.headers[name]);
  }

  protected writeError(error: ProxyError): void {
    respondErrorH1(this.res, error);
  }
}

/** An HTTP/2 stream; `client` is the connection it came on (the app, or the peer proxy). */
export class Http2Exchange extends HttpExchange implements Http2Wire {
  readonly kind = 'h2';
  readonly method: string;
  readonly path: string;
  readonly grpc: boolean;
  readonly hasBody: boolean;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: H2Headers,
    readonly authority: string,
    readonly client: string,
  ) {
    super();
    this.method = String(headers[':method'] ?? 'GET');
    this.path = String(headers[':path'] ?? '/');
    this.grpc = isGrpc(headers['content-type']);
    this.hasBody = !stream.endAfterHeaders;
  }

  get wire(): Http2Wire {
    return this;
  }

  header(name: string): string | undefined {
    return joinedHeader(this.headers[name]);
  }

  protected writeError(error: ProxyError): void {
    respondErrorH2(this.stream, error, this.grpc);
  }
}

/** The client of an HTTP/2 stream: its session's socket. */
export function streamClient(stream: ServerHttp2Stream): string {
  return address(stream.session?.socket);
}
