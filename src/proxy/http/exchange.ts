// One HTTP exchange as every layer of the proxy sees it, whatever carried it: the lean HTTP/1.1
// relay, node:http, or an HTTP/2 stream. Layers are `(next) => handle` functions over an exchange
// and a target (what the stages before them decided); the stacks in inbound/stack.ts and
// outbound/stack.ts chain them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders as H2Headers, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { RequestHead } from '../http1/relay.js';
import type { ProxyError } from './errors.js';

/** The outcome of an exchange: final status, whether it failed, and the gRPC status of a gRPC response. */
export type Done = (status: number, failure: boolean, grpcStatus?: number) => void;

/** How the request's bytes move on: the endpoint layer forwards through the wire its exchange came on. */
export type HttpWire = RelayWire | NodeHttp1Wire | Http2Wire;

/** A request on the lean relay (src/proxy/http1/relay.ts): forwarded over a connection the endpoint provides. */
export interface RelayWire {
  kind: 'relay';
  head: RequestHead;
  /**
   * Sends the request over a connection from `connect` (called again if the relay finds a pooled
   * connection dead before the request left). `connect` reports its failure to the endpoint layer,
   * which retries elsewhere (forward again) or answers the exchange with an error.
   */
  forward(f: RelayForwarding): void;
}

export interface RelayForwarding {
  connect(cb: (s: Socket) => void): void;
  release(s: Socket): void;
  /** Request headers added for this endpoint, as "name: value\r\n" lines. */
  extraHeaders: string;
}

/** A request node:http parsed (HTTP/1.1 to be carried as HTTP/2 between proxies, or to a plain endpoint). */
export interface NodeHttp1Wire {
  kind: 'h1';
  req: IncomingMessage;
  res: ServerResponse;
}

/** An HTTP/2 stream (h2c from the app, or between proxies). */
export interface Http2Wire {
  kind: 'h2';
  stream: ServerHttp2Stream;
  headers: H2Headers;
}

export interface HttpExchange {
  readonly method: string;
  /** Origin-form request target ("/p?q"). */
  readonly path: string;
  /** The authority the request names (Host, absolute-form, :authority), or its upstream listener's. */
  readonly authority: string;
  /** The downstream client, "ip:port" (the app outbound, the peer proxy inbound). */
  readonly client: string;
  /** A gRPC call (content-type application/grpc…): errors are answered as gRPC. */
  readonly grpc: boolean;
  /** A request body follows the head (a request with one is never retried once it left). */
  readonly hasBody: boolean;
  /** A request header by lower-case name; repeated ones joined by ",". */
  header(name: string): string | undefined;
  /** The proxy answers the exchange itself (it then reports done with the error's status, as a failure). */
  respond(error: ProxyError): void;
  /** Called once the request is about to leave for its upstream; layers hook it with `onSending`. */
  sending: () => void;
  /** Called once the exchange is over; layers hook it with `onDone`. */
  done: Done;
  readonly wire: HttpWire;
}

/** A stage of a stack: handles an exchange with the target the stages before it resolved. */
export type Handler<T> = (x: HttpExchange, target: T) => void;
/** A layer wraps the next stage: `(next) => handle`. */
export type Layer<In, Out = In> = (next: Handler<Out>) => Handler<In>;

/** Runs `f` once with the outcome, before the layers outside see it (a second report is ignored). */
export function onDone(x: HttpExchange, f: Done): void {
  const outer = x.done;
  let called = false;
  x.done = (status, failure, grpcStatus) => {
    if (called) return;
    called = true;
    f(status, failure, grpcStatus);
    outer(status, failure, grpcStatus);
  };
}

/** Runs `f` once when the request is about to leave. */
export function onSending(x: HttpExchange, f: () => void): void {
  const outer = x.sending;
  let called = false;
  x.sending = () => {
    if (called) return;
    called = true;
    f();
    outer();
  };
}

export const noop = (): void => {};

/** A header value of node's parsed headers (repeated ones joined by ","). */
export function joinedHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
