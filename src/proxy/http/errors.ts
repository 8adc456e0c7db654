// The proxy's own HTTP errors in one table (as linkerd2-proxy's app/core/src/errors/respond.rs):
// each named error has its HTTP status and, for gRPC callers, its grpc-status; the one error
// writer turns one into a response on any of the three downstreams (lean relay, node:http, HTTP/2).
import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';

/** gRPC status codes used below (grpc/doc/statuscodes.md). */
const GRPC = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/**
 * Every error the proxy answers itself, by name: the HTTP status, the grpc-status a gRPC caller
 * gets, and what it means (docs/proxy.md "Errors the proxy answers" lists the same table).
 */
export const PROXY_ERRORS = {
  no_authority: { status: 400, grpc: GRPC.INVALID_ARGUMENT, meaning: 'the request names no authority (no absolute-form, Host or :authority)' },
  no_target_port: { status: 400, grpc: GRPC.INVALID_ARGUMENT, meaning: 'a request reached the inbound without a target port' },
  unauthorized: { status: 403, grpc: GRPC.PERMISSION_DENIED, meaning: "the inbound's policy for the target port denies this client or route" },
  target_port_refused: { status: 403, grpc: GRPC.PERMISSION_DENIED, meaning: "the target port is not the workload's, or is one of the proxy's own" },
  no_such_service: { status: 502, grpc: GRPC.UNAVAILABLE, meaning: 'discovery says the authority does not exist' },
  discovery_timeout: { status: 503, grpc: GRPC.UNAVAILABLE, meaning: 'discovery did not answer within timeouts.connect' },
  no_endpoints: { status: 503, grpc: GRPC.UNAVAILABLE, meaning: 'the service has no endpoint that can take the request' },
  connect_failed: { status: 502, grpc: GRPC.UNAVAILABLE, meaning: 'no connection to any endpoint (or the local app) could be made' },
  upstream_failed: { status: 502, grpc: GRPC.UNAVAILABLE, meaning: 'the upstream reset or closed the request before answering' },
  bad_response: { status: 502, grpc: GRPC.INTERNAL, meaning: 'the upstream answered something that is not HTTP' },
  response_timeout: { status: 504, grpc: GRPC.DEADLINE_EXCEEDED, meaning: 'no response within timeouts.request' },
} as const satisfies Record<string, { status: number; grpc: number; meaning: string }>;

export type ProxyErrorName = keyof typeof PROXY_ERRORS;

/** One error the proxy answers: its code (the table row) and the message sent in `l5d-proxy-error`. */
export class ProxyError extends Error {
  readonly status: number;
  readonly grpcStatus: number;

  constructor(
    readonly code: ProxyErrorName,
    /** Says what failed and where (e.g. "api.apps:80: no endpoints"); one line, no secrets. */
    message: string = code.replace(/_/g, ' '),
  ) {
    super(message);
    this.name = 'ProxyError';
    this.status = PROXY_ERRORS[code].status;
    this.grpcStatus = PROXY_ERRORS[code].grpc;
  }
}

export function proxyError(name: ProxyErrorName, message?: string): ProxyError {
  return new ProxyError(name, message);
}

/**
 * The response to an error: status, headers, body. A gRPC caller gets what gRPC expects, as from
 * linkerd2-proxy: a trailers-only 200 with grpc-status and grpc-message (and l5d-proxy-error).
 */
export function errorResponse(e: ProxyError, grpc: boolean): { status: number; headers: Record<string, string>; body: string } {
  const reason = e.message.replace(/[\r\n]/g, ' ');
  if (grpc) return { status: 200, headers: { 'content-type': 'application/grpc', 'grpc-status': String(e.grpcStatus), 'grpc-message': encodeURIComponent(reason), 'l5d-proxy-error': reason }, body: '' };
  return { status: e.status, headers: { 'content-type': 'text/plain', 'l5d-proxy-error': reason }, body: reason + '\n' };
}

/** Is this request a gRPC call (its content-type), so errors carry grpc-status? */
export function isGrpc(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && contentType.startsWith('application/grpc');
}

/** The error as raw HTTP/1.1 bytes, for the lean relay; `close` adds "connection: close". */
export function errorResponseHttp1(e: ProxyError, close: boolean): string {
  const r = errorResponse(e, false);
  let out = `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Error'}\r\n`;
  for (const k in r.headers) out += `${k}: ${r.headers[k]}\r\n`;
  out += `content-length: ${Buffer.byteLength(r.body)}\r\n${close ? 'connection: close\r\n' : ''}\r\n${r.body}`;
  return out;
}

/** The error on a node:http response; once headers went out, the connection is cut instead. */
export function respondErrorH1(res: ServerResponse, e: ProxyError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const r = errorResponse(e, false);
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

/** The error on an HTTP/2 stream; once headers went out, the stream is reset instead. */
export function respondErrorH2(down: ServerHttp2Stream, e: ProxyError, grpc: boolean): void {
  if (down.destroyed || down.closed) return;
  if (down.headersSent) {
    down.close(2 /* INTERNAL_ERROR */);
    return;
  }
  const r = errorResponse(e, grpc);
  if (!r.body) return down.respond({ ':status': r.status, ...r.headers }, { endStream: true });
  down.respond({ ':status': r.status, ...r.headers });
  down.end(r.body);
}

export const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 408: 'Request Timeout', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };
