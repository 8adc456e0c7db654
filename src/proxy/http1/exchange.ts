// The lean relay's requests as HTTP exchanges: the relay asks for a decision per request; this
// adapter gives it one when a stack's endpoint layer forwards (or answers) the exchange.
import type { Socket } from 'node:net';
import type { Decision, RequestHead } from './relay.js';
import { HttpExchange, type RelayForwarding, type RelayWire } from '../http/exchange.js';
import type { ProxyError } from '../http/errors.js';
import { rawHeaderValue } from '../../core/routes/http-route.js';

type Acquired = (err: Error | undefined, s?: Socket) => void;

/** One relay request as an exchange; `timeoutMs` bounds the wait for its response (504). */
export class RelayExchange extends HttpExchange implements RelayWire {
  readonly kind = 'relay';
  readonly method: string;
  readonly path: string;
  readonly grpc = false;
  readonly hasBody: boolean;
  private decided = false;
  private forwarding: RelayForwarding | undefined;
  /** The relay's request for a connection, until the endpoint layer provides one. */
  private waiting: Acquired | undefined;

  constructor(
    readonly head: RequestHead,
    private readonly decide: (d: Decision) => void,
    readonly client: string,
    readonly authority: string,
    private readonly timeoutMs: number,
  ) {
    super();
    this.method = head.method;
    this.path = head.url;
    this.hasBody = head.hasBody;
  }

  get wire(): RelayWire {
    return this;
  }

  header(name: string): string | undefined {
    return rawHeaderValue(this.head.headers, name);
  }

  protected writeError(error: ProxyError): void {
    const cb = this.waiting;
    if (cb) {
      // Forwarding began but no endpoint could be reached: the relay answers with this error.
      this.waiting = undefined;
      cb(error);
    } else if (!this.decided) {
      this.decided = true;
      this.decide({ kind: 'respond', error });
    }
  }

  forward(f: RelayForwarding): void {
    this.forwarding = f;
    if (this.decided) {
      // Another endpoint after a failed connect: the relay still waits for its connection.
      if (this.waiting) this.connect();
      return;
    }
    this.decided = true;
    this.decide(this.decision());
  }

  /** The relay asks for a connection: the endpoint layer's, once it forwards. */
  acquire(cb: Acquired): void {
    this.waiting = cb;
    this.connect();
  }

  /** The endpoint this exchange goes to now (changes when a failed connect is retried elsewhere). */
  get forwardingTo(): RelayForwarding {
    return this.forwarding!;
  }

  private decision(): Decision {
    return new ForwardDecision(this, this.timeoutMs);
  }

  private connect(): void {
    this.forwarding!.connect((s) => {
      const cb = this.waiting;
      this.waiting = undefined;
      cb?.(undefined, s);
    });
  }
}

/** The relay's forward decision for one exchange (methods, so no closure per request). */
class ForwardDecision {
  readonly kind = 'forward';

  constructor(
    private readonly x: RelayExchange,
    readonly timeoutMs: number,
  ) {}

  get extraHeaders(): string {
    return this.x.forwardingTo.extraHeaders;
  }

  acquire(cb: Acquired): void {
    this.x.acquire(cb);
  }

  release(s: Socket): void {
    this.x.forwardingTo.release(s);
  }

  done(status: number, failure: boolean): void {
    this.x.done(status, failure);
  }
}
