// A server stream with a bounded send queue. Watchers call `send` on the event loop and never wait:
// when the client does not read and the queue is full, the stream is closed with
// RESOURCE_EXHAUSTED (and counted) so that the client re-subscribes and one slow client never
// holds memory or slows the others.
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';

export const DEFAULT_QUEUE_CAPACITY = 100;

export class BoundedStream<M> {
  private pending: M[] = [];
  private blocked = false;
  private closed = false;

  constructor(
    private readonly call: grpc.ServerWritableStream<unknown, M>,
    private readonly capacity: number,
    private readonly onOverflow: () => void,
  ) {
    call.on('drain', () => this.flush());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a message; never blocks. Returns false when the stream is (now) closed. */
  send(msg: M): boolean {
    if (this.closed) return false;
    if (!this.blocked) {
      this.blocked = !this.call.write(msg);
      return true;
    }
    if (this.pending.length >= this.capacity) {
      this.abort(grpc.status.RESOURCE_EXHAUSTED, `the client did not read ${this.capacity} queued updates; re-subscribe`);
      this.onOverflow();
      return false;
    }
    this.pending.push(msg);
    return true;
  }

  private flush(): void {
    this.blocked = false;
    while (!this.closed && !this.blocked && this.pending.length) this.blocked = !this.call.write(this.pending.shift()!);
  }

  /** Ends the stream with an error status now, dropping what is queued. */
  abort(code: grpc.status, details: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    // grpc-js sends trailers only after queued data, which a client that does not read never takes:
    // send the status, then reset the HTTP/2 stream (ENHANCE_YOUR_CALM reads as RESOURCE_EXHAUSTED).
    const inner = (this.call as any).call;
    try {
      inner?.sendStatus?.({ code, details, metadata: null });
    } catch {}
    const h2 = findHttp2Stream(inner);
    setImmediate(() => {
      try {
        if (h2 && !h2.closed) h2.close(code === grpc.status.RESOURCE_EXHAUSTED ? http2.constants.NGHTTP2_ENHANCE_YOUR_CALM : http2.constants.NGHTTP2_CANCEL);
      } catch {}
    });
    if (!h2 && !inner?.sendStatus) this.call.destroy(Object.assign(new Error(details), { code }));
  }

  /** Ends the stream with an error status once queued messages are sent. */
  fail(code: grpc.status, details: string): void {
    if (this.closed) return;
    this.closed = true;
    this.call.emit('error', { code, details });
  }

  markClosed(): void {
    this.closed = true;
    this.pending = [];
  }
}

/** grpc-js keeps the HTTP/2 stream on its innermost call object. */
function findHttp2Stream(call: any): http2.ServerHttp2Stream | undefined {
  for (let c = call, i = 0; c && i < 8; c = c.nextCall, i++) {
    if (c.stream && typeof c.stream.close === 'function') return c.stream as http2.ServerHttp2Stream;
  }
  return undefined;
}

/** Counters every subscription stream keeps (destination, policy and revocation streams). */
export interface StreamMetrics {
  streamsOpen: number;
  streamsTotal: number;
  overflows: number;
  updatesSent: number;
}

export interface MeteredStream<M> {
  stream: BoundedStream<M>;
  /** Queues a message and counts it; false once the stream is closed. */
  send(msg: M): boolean;
  /** Ends the subscription now (unsubscribes, counts the stream closed); idempotent. */
  close(): void;
  /** Hands over the subscription's unsubscribe; runs at once if the client is already gone. */
  setUnsubscribe(fn: () => void): void;
}

/**
 * Opens a bounded subscription stream on `call`, counted open until the client goes away, the
 * queue overflows or `close()` — whichever comes first unsubscribes, exactly once.
 */
export function openMeteredStream<M>(call: grpc.ServerWritableStream<unknown, M>, capacity: number, metrics: StreamMetrics, onOverflow?: () => void): MeteredStream<M> {
  let done = false;
  let unsubscribe = () => {};
  const close = () => {
    if (done) return;
    done = true;
    unsubscribe();
    metrics.streamsOpen--;
  };
  const stream = new BoundedStream<M>(call, capacity, () => {
    metrics.overflows++;
    onOverflow?.();
    close();
  });
  metrics.streamsOpen++;
  metrics.streamsTotal++;
  call.on('cancelled', () => {
    stream.markClosed();
    close();
  });
  call.on('close', close);
  call.on('error', close);
  return {
    stream,
    send: (msg) => {
      if (!stream.send(msg)) return false;
      metrics.updatesSent++;
      return true;
    },
    close,
    setUnsubscribe: (fn) => {
      if (done) fn();
      else unsubscribe = fn;
    },
  };
}
