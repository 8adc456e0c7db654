// One HTTP exchange as every layer of the proxy sees it, whatever carried it: the lean HTTP/1.1
// relay, node:http, or an HTTP/2 stream. Layers are `(next) => handle` functions over an exchange
// and a target (what the stages before them decided, one object per request); the stacks in
// inbound/stack.ts and outbound/stack.ts chain them.
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

/** A layer's hook on the outcome: a function made once per stack, and the request's own state. */
export type DoneHook<S> = (state: S, status: number, failure: boolean, grpcStatus: number | undefined) => void;
export type SendingHook<S> = (state: S) => void;

/**
 * One request and its response. The adapters (node-exchange.ts, http1/exchange.ts) subclass it;
 * layers read the request, answer it with `respond`, or hook `sending`/`done` with a (hook, state)
 * pair: no closure per request and layer (hooks run innermost first, each at most once).
 */
export abstract class HttpExchange {
  abstract readonly method: string;
  /** Origin-form request target ("/p?q"). */
  abstract readonly path: string;
  /** The authority the request names (Host, absolute-form, :authority), or its upstream listener's. */
  abstract readonly authority: string;
  /** The downstream client, "ip:port" (the app outbound, the peer proxy inbound). */
  abstract readonly client: string;
  /** A gRPC call (content-type application/grpc…): errors are answered as gRPC. */
  abstract readonly grpc: boolean;
  /** A request body follows the head (a request with one is never retried once it left). */
  abstract readonly hasBody: boolean;
  abstract readonly wire: HttpWire;
  /** A request header by lower-case name; repeated ones joined by ",". */
  abstract header(name: string): string | undefined;

  /** The request target, so an exchange is a route table's RequestView (routes, authorization). */
  get target(): string {
    return this.path;
  }
  /** Writes the proxy's error response on the wire (`respond` also reports the outcome). */
  protected abstract writeError(error: ProxyError): void;

  private readonly sendingHooks: unknown[] = [];
  private readonly doneHooks: unknown[] = [];
  private sent = false;
  private over = false;

  /** The proxy answers the exchange itself; it is then done with the error's status, as a failure. */
  respond(error: ProxyError): void {
    this.writeError(error);
    this.done(error.status, true);
  }

  /** The request is about to leave for its upstream. */
  sending(): void {
    if (this.sent) return;
    this.sent = true;
    const h = this.sendingHooks;
    for (let i = h.length - 2; i >= 0; i -= 2) (h[i] as SendingHook<unknown>)(h[i + 1]);
  }

  /** The exchange is over (the first report counts). */
  done(status: number, failure: boolean, grpcStatus?: number): void {
    if (this.over) return;
    this.over = true;
    const h = this.doneHooks;
    for (let i = h.length - 2; i >= 0; i -= 2) (h[i] as DoneHook<unknown>)(h[i + 1], status, failure, grpcStatus);
  }

  onSending<S>(hook: SendingHook<S>, state: S): void {
    this.sendingHooks.push(hook, state);
  }

  onDone<S>(hook: DoneHook<S>, state: S): void {
    this.doneHooks.push(hook, state);
  }

  /** Where the hooks stand, for `resetHooks`. */
  hookMark(): number {
    return this.sendingHooks.length * 0x10000 + this.doneHooks.length;
  }

  /** A new attempt (retry layer): the hooks added since `mark` are dropped, and `sending` may run again. */
  resetHooks(mark: number): void {
    this.sendingHooks.length = Math.floor(mark / 0x10000);
    this.doneHooks.length = mark % 0x10000;
    this.sent = false;
  }
}

/** A stage of a stack: handles an exchange with the target the stages before it resolved. */
export type Handler<T> = (x: HttpExchange, target: T) => void;
/** A layer wraps the next stage: `(next) => handle`. */
export type Layer<In, Out = In> = (next: Handler<Out>) => Handler<In>;

/** A header value of node's parsed headers (repeated ones joined by ","). */
export function joinedHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
