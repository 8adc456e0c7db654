// A control-plane stream that never gives up: opens a call on the ControlChannel, hands every message
// to its owner, and on error or end reopens it after a jittered backoff (reset once a message arrives).
// Credential rotation moves the stream to the new channel at once. The owner keeps its last state (fail static).
import type * as grpc from '@grpc/grpc-js';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { ControlChannel } from './channel.js';

/** What the helper needs of a server-streaming or bidi call. */
export interface StreamCall<M> {
  on(event: 'data', listener: (msg: M) => void): unknown;
  on(event: 'error', listener: (err: grpc.ServiceError) => void): unknown;
  on(event: 'status', listener: (status: grpc.StatusObject) => void): unknown;
  cancel(): void;
}

export interface ResilientStreamOptions<M, C extends StreamCall<M>> {
  channel: ControlChannel;
  service: grpc.ServiceClientConstructor;
  /** Starts the call on a client of `service`. */
  open(client: grpc.Client): C;
  /** Every message; `first` is true for the first message of a newly opened call (a full state). */
  onMessage(msg: M, first: boolean, call: C): void;
  /** The call ended or failed; a reopen is scheduled. */
  onDisconnect?(reason: string): void;
  /** A status after which retrying cannot help (e.g. INVALID_ARGUMENT): the stream stops and onTerminal runs. */
  isTerminal?(status: grpc.StatusObject): boolean;
  onTerminal?(status: grpc.StatusObject): void;
  /** The call was opened (e.g. to write the first request of a bidi stream). */
  onOpen?(call: C): void;
  clock?: Clock;
  backoff?: BackoffOptions;
  log?: Logger;
  /** For logs: "destination Get postgres.hybrid-app:5432". */
  description: string;
}

/**
 * Reopen delays: a short cap (10 s rather than gRPC's 2 min) so a returning control plane is found
 * within seconds, well inside the health grace period; ±20 % jitter spreads the reconnects of many proxies.
 */
export const STREAM_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000, multiplier: 1.6, jitter: 0.2 };

export class ResilientStream<M, C extends StreamCall<M> = StreamCall<M>> {
  private call: C | undefined;
  private generation = 0;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly unsubscribeRotate: () => void;

  constructor(private readonly opts: ResilientStreamOptions<M, C>) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff({ ...STREAM_BACKOFF, ...opts.backoff });
    this.unsubscribeRotate = opts.channel.onRotate(() => this.reopenNow());
    this.open();
  }

  /** The open call, if any (e.g. for writing to a bidi stream). */
  current(): C | undefined {
    return this.call;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeRotate();
    this.cancelTimer();
    this.cancelCall();
  }

  private reopenNow(): void {
    if (this.closed) return;
    this.cancelTimer();
    this.cancelCall();
    this.open();
  }

  private open(): void {
    if (this.closed) return;
    const client = this.opts.channel.client(this.opts.service);
    if (!client) return; // no credentials yet: onRotate opens the stream when they arrive
    const generation = ++this.generation;
    let first = true;
    let call: C;
    try {
      call = this.opts.open(client);
    } catch (e) {
      this.scheduleReopen(generation, `open failed: ${(e as Error).message}`);
      return;
    }
    this.call = call;
    call.on('data', (msg: M) => {
      if (generation !== this.generation) return;
      this.backoff.reset();
      const wasFirst = first;
      first = false;
      this.opts.onMessage(msg, wasFirst, call);
    });
    call.on('error', () => {}); // the status event below carries the same information
    call.on('status', (status: grpc.StatusObject) => {
      if (generation !== this.generation) return;
      this.call = undefined;
      if (this.opts.isTerminal?.(status)) {
        this.opts.log?.warn('control stream refused; not retrying', { stream: this.opts.description, code: status.code, details: status.details });
        this.close();
        this.opts.onTerminal?.(status);
        return;
      }
      this.scheduleReopen(generation, `stream ended: code ${status.code} ${status.details}`);
    });
    this.opts.onOpen?.(call);
  }

  private scheduleReopen(generation: number, reason: string): void {
    if (this.closed || generation !== this.generation) return;
    this.opts.onDisconnect?.(reason);
    const delay = this.backoff.next();
    this.opts.log?.debug('control stream reconnecting', { stream: this.opts.description, reason, delayMs: delay });
    this.cancelTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, delay);
    this.timer.unref?.();
  }

  private cancelTimer(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private cancelCall(): void {
    const call = this.call;
    this.call = undefined;
    this.generation++;
    call?.cancel();
  }
}
