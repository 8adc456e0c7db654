// An upstream connection of the HTTP/1.1 relay: its response parser and its listeners, made once per
// connection and kept while it idles in its pool; they call the handlers of the relay it serves now.
import type { Socket } from 'node:net';
import { loadLlhttp } from './llhttp.js';

const { HTTPParser, kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete } = loadLlhttp();

/** What a downstream connection's relay does with the events of the upstream connection serving it. */
export interface ResponseHandlers {
  onHeaders(raw: string[], code: number, msg: string, keepAlive: boolean): number;
  onBody(chunk: Buffer): void;
  onComplete(): void;
  onData(b: Buffer): void;
  onClose(): void;
  onTimeout(): void;
  onDrain(): void;
}

/** An upstream connection's response parser and listeners, made once per connection and kept while it is pooled. */
export interface UpstreamState {
  parser: any;
  /** The relay whose response this connection carries now; undefined while it idles in its pool. */
  current: ResponseHandlers | undefined;
}

export function upstreamState(up: Socket): UpstreamState {
  const tagged = up as Socket & { [UPSTREAM_STATE]?: UpstreamState };
  const known = tagged[UPSTREAM_STATE];
  if (known) return known;
  const parser = new HTTPParser();
  const st: UpstreamState = { parser, current: undefined };
  // A head with more than 32 fields comes in parts (kOnHeaders, then kOnHeadersComplete without headers).
  let part: string[] | undefined;
  parser[kOnHeaders] = (h: string[]) => {
    part = part ? part.concat(h) : h;
  };
  parser[kOnHeadersComplete] = (_maj: number, _min: number, raw: string[] | undefined, _m: unknown, _u: unknown, code: number, msg: string, _up: boolean, keepAlive: boolean) => {
    const all = part ? (raw ? part.concat(raw) : part) : (raw ?? []);
    part = undefined;
    return st.current ? st.current.onHeaders(all, code, msg, keepAlive) : 0;
  };
  parser[kOnBody] = (chunk: Buffer) => st.current?.onBody(chunk);
  parser[kOnMessageComplete] = () => st.current?.onComplete();
  up.on('data', (b: Buffer) => st.current?.onData(b));
  up.on('timeout', () => st.current?.onTimeout());
  up.on('drain', () => st.current?.onDrain());
  up.on('close', () => {
    st.current?.onClose();
    // Delete the native parser once its stack has unwound (as node's own http does).
    setImmediate(() => parser.close());
  });
  tagged[UPSTREAM_STATE] = st;
  return st;
}

const UPSTREAM_STATE = Symbol('outpost.upstreamState');
