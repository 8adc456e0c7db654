// A lean HTTP/1.1 relay on raw sockets (Node's own llhttp parser, no IncomingMessage/ClientRequest):
// requests from a downstream connection are routed one at a time to pooled upstream connections,
// heads rebuilt with hop-by-hop headers removed, bodies streamed (chunked re-framed), responses
// relayed back. Pipelined requests wait their turn. Used on both sides of the proxy for HTTP/1.1.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorResponseHttp1, proxyError, ProxyError } from '../http/errors.js';
import { loadLlhttp } from './llhttp.js';
import { HOP, listedInConnection, mayBeHopByHop, REQUEST_SPECIAL_LENGTHS } from './hop-headers.js';
import { upstreamState, type ResponseHandlers, type UpstreamState } from './upstream.js';

const { HTTPParser, methods, kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete } = loadLlhttp();

export interface RequestHead {
  method: string;
  url: string;
  /** Raw header names and values, alternating, hop-by-hop ones already removed. */
  headers: string[];
  host: string | undefined;
  chunked: boolean;
  hasBody: boolean;
  keepAlive: boolean;
  upgrade: boolean;
  /** The target port a peer proxy named (outpost-dst-port), 0 if none. */
  dstPort: number;
}

export type Decision =
  | { kind: 'respond'; error: ProxyError }
  | {
      kind: 'forward';
      /** Gets an upstream connection (pooled or new). */
      acquire(cb: (err: Error | undefined, s?: Socket) => void): void;
      /** Gives a healthy idle connection back. */
      release(s: Socket): void;
      /** Extra request headers as "name: value\r\n" lines. */
      extraHeaders: string;
      /** Called once with the final status (502 on a failure before the response). */
      done(status: number, failure: boolean): void;
      /** No response within this long -> 504. */
      timeoutMs: number;
    };

function headerValue(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i].length === name.length && headers[i].toLowerCase() === name) return headers[i + 1];
  return undefined;
}

export { headerValue };

interface Exchange {
  head: RequestHead;
  /** Body bytes that arrived before the upstream connection did. */
  buffered: Buffer[] | undefined;
  requestDone: boolean;
  upstream?: Socket;
}

export interface Http1Connection {
  /** Close once idle: now if no request is in flight, else after the current responses. */
  drain(): void;
}

/** Serves HTTP/1.1 on `down`; `route` decides each request (synchronously or later). */
export function serveHttp1(down: Socket, route: (head: RequestHead, decide: (d: Decision) => void) => void, onClose?: () => void, idleMs = 0, headersTimeoutMs = 0): Http1Connection {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {});
  const queue: Exchange[] = [];
  let closed = false;
  let draining = false;
  // Slow headers (slowloris): once a request's first bytes arrive, its head must be complete within headersTimeoutMs.
  // One timer per connection at most, not one per request: a request's first bytes set a deadline,
  // the timer (started if none is pending) re-arms for what is left, a complete head clears the deadline.
  let awaitingHead = true;
  let headDeadline = 0;
  let headTimer: NodeJS.Timeout | undefined;
  const clearHeadTimer = () => {
    if (headTimer) clearTimeout(headTimer);
    headTimer = undefined;
  };
  const armHeadTimer = (ms: number) => {
    headTimer = setTimeout(onHeadTimer, ms);
    headTimer.unref();
  };
  function onHeadTimer(): void {
    headTimer = undefined;
    if (!awaitingHead || closed || headDeadline === 0) return;
    const left = headDeadline - performance.now();
    if (left > 0) return armHeadTimer(left);
    if (queue.length === 0) down.end('HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    down.destroySoon?.();
    setTimeout(() => down.destroy(), 1000).unref();
  }

  // A head with more than 32 fields comes in parts: kOnHeaders with what the parser held, then
  // kOnHeadersComplete without headers or URL (as in Node's own _http_common).
  let partHeaders: string[] | undefined;
  let partUrl = '';
  parser[kOnHeaders] = (h: string[], u: string) => {
    partHeaders = partHeaders ? partHeaders.concat(h) : h;
    partUrl += u;
  };
  parser[kOnHeadersComplete] = (_maj: number, minor: number, raw: string[] | undefined, method: number, url: string | undefined, _s: unknown, _m: unknown, upgrade: boolean, keepAlive: boolean) => {
    awaitingHead = false;
    headDeadline = 0;
    if (raw === undefined || url === undefined) {
      raw = raw ? (partHeaders ?? []).concat(raw) : (partHeaders ?? []);
      url = url ?? partUrl;
    }
    partHeaders = undefined;
    partUrl = '';
    // The kept headers are compacted in place (`raw` is this head's own array; kept <= i always).
    const headers = raw;
    let kept = 0;
    let chunked = false;
    let contentLength = false;
    let host: string | undefined;
    let dstPort = 0;
    const listed = listedInConnection(raw);
    for (let i = 0; i < raw.length; i += 2) {
      if (!REQUEST_SPECIAL_LENGTHS.has(raw[i].length)) {
        // Neither hop-by-hop nor one the relay reads: kept unless Connection lists it.
        if (!listed?.has(raw[i].toLowerCase())) {
          headers[kept++] = raw[i];
          headers[kept++] = raw[i + 1];
        }
        continue;
      }
      const lower = raw[i].toLowerCase();
      if (lower === 'transfer-encoding') chunked = /chunked/i.test(raw[i + 1]);
      else if (lower === 'outpost-dst-port') dstPort = Number(raw[i + 1]) || 0;
      else if (lower === 'content-length') contentLength = raw[i + 1] !== '0';
      else if (lower === 'host') host = raw[i + 1];
      // An upgrade request keeps its Upgrade and Connection headers; other hop-by-hop ones go.
      const upgradeHeader = upgrade && (lower === 'upgrade' || lower === 'connection');
      if (!upgradeHeader && (HOP.has(lower) || listed?.has(lower))) continue;
      headers[kept++] = raw[i];
      headers[kept++] = raw[i + 1];
    }
    headers.length = kept;
    const head: RequestHead = { method: methods[method], url, headers, host, chunked, hasBody: chunked || contentLength, keepAlive: keepAlive && minor >= 1, upgrade, dstPort };
    queue.push({ head, buffered: undefined, requestDone: false });
    if (queue.length === 1) start(queue[0]);
    return 0;
  };
  parser[kOnBody] = (chunk: Buffer) => {
    const ex = queue[queue.length - 1];
    if (!ex) return;
    const framed = ex.head.chunked ? [Buffer.from(chunk.length.toString(16) + '\r\n'), chunk, CRLF] : [chunk];
    if (ex.upstream) {
      let ok = true;
      for (const b of framed) ok = ex.upstream.write(b) && ok;
      // Backpressure: stop reading the client until the upstream drains (resumed on 'drain').
      if (!ok) down.pause();
    } else (ex.buffered ??= []).push(...framed.map((b) => (b === chunk ? Buffer.from(b) : b)));
  };
  parser[kOnMessageComplete] = () => {
    awaitingHead = true;
    const ex = queue[queue.length - 1];
    if (!ex) return;
    ex.requestDone = true;
    if (ex.head.chunked) {
      if (ex.upstream) ex.upstream.write(LAST_CHUNK);
      else (ex.buffered ??= []).push(LAST_CHUNK);
    }
  };

  down.on('data', (d: Buffer) => {
    if (awaitingHead && headersTimeoutMs > 0 && headDeadline === 0) {
      headDeadline = performance.now() + headersTimeoutMs;
      if (!headTimer) armHeadTimer(headersTimeoutMs);
    }
    // Body parts parsed from this read leave in one write.
    const active = queue.length > 0 ? queue[queue.length - 1].upstream : undefined;
    active?.cork();
    const r = parser.execute(d);
    active?.uncork();
    if (r instanceof Error) {
      if (queue.length === 0) down.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      else down.destroy();
    }
  });
  down.on('close', () => {
    closed = true;
    clearHeadTimer();
    for (const ex of queue) ex.upstream?.destroy();
    // Delete the native parser once its stack has unwound (as node's own http does).
    setImmediate(() => parser.close());
    onClose?.();
  });
  down.on('error', () => {});
  // Idle keep-alive connections are closed after idleMs; a request in flight is never cut by it.
  if (idleMs > 0) {
    down.setTimeout(idleMs);
    down.on('timeout', () => {
      if (queue.length === 0) down.destroy();
    });
  }

  function next(): void {
    queue.shift();
    if (queue.length > 0) start(queue[0]);
    else if (draining) down.end();
  }

  function writeLocal(ex: Exchange, error: ProxyError): void {
    down.write(errorResponseHttp1(error, !ex.head.keepAlive));
    if (!ex.head.keepAlive) down.end();
  }

  function start(ex: Exchange): void {
    route(ex.head, (d) => {
      if (closed) return;
      if (d.kind === 'respond') {
        // The request body (if any) is discarded as it arrives.
        writeLocal(ex, d.error);
        return next();
      }
      attempt(ex, d, 1);
    });
  }

  function attempt(ex: Exchange, d: Extract<Decision, { kind: 'forward' }>, n: number): void {
    d.acquire((err, up) => {
      if (closed) {
        if (up) d.release(up);
        return;
      }
      if (err || !up) {
        // The router's own error (it gave up on every endpoint), or the connection's.
        const e = err instanceof ProxyError ? err : proxyError('connect_failed', `upstream connect failed: ${err?.message ?? 'no connection'}`);
        d.done(e.status, true);
        writeLocal(ex, e);
        return next();
      }
      forward(ex, d, up, n);
    });
  }

  // The response being relayed now: one at a time per downstream connection, so this state and its
  // handlers are made once per connection and reused by every request (no per-request closures or
  // listener churn). The upstream connection's own listeners (upstreamState) call them while
  // `upSt.current` points here.
  let ex: Exchange;
  let d: Forward;
  let up: Socket;
  let upSt: UpstreamState;
  let attemptNo = 1;
  let status = 0;
  let chunkedResp = false;
  let gotBytes = false;
  let finished = true;
  let upKeepAlive = false;
  // While the upstream's parser runs, a finished exchange's successor starts after it returns.
  let parsing = false;
  let nextPending = false;
  const handlers: ResponseHandlers = {
    onHeaders(raw, code, msg, keepAlive) {
      const h = ex.head;
      if (code >= 100 && code < 200) {
        down.write(`HTTP/1.1 ${code} ${msg}\r\n\r\n`);
        return 0;
      }
      status = code;
      let out = `HTTP/1.1 ${code} ${msg}\r\n`;
      const listed = listedInConnection(raw);
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i];
        if (mayBeHopByHop(name)) {
          const lower = name.toLowerCase();
          if (lower === 'transfer-encoding') {
            chunkedResp = /chunked/i.test(raw[i + 1]);
            continue;
          }
          if (HOP.has(lower)) continue;
        }
        if (listed?.has(name.toLowerCase())) continue;
        out += `${name}: ${raw[i + 1]}\r\n`;
      }
      if (chunkedResp) out += 'transfer-encoding: chunked\r\n';
      if (!h.keepAlive) out += 'connection: close\r\n';
      down.write(out + '\r\n');
      upKeepAlive = keepAlive;
      return h.method === 'HEAD' ? 1 : 0;
    },
    onBody(chunk) {
      const ok = chunkedResp ? (down.write(chunk.length.toString(16) + '\r\n'), down.write(chunk), down.write(CRLF)) : down.write(chunk);
      if (!ok) up.pause();
    },
    onComplete() {
      if (chunkedResp) down.write(LAST_CHUNK);
      // The response leaves before the bookkeeping (pool, metrics, balancer, tap) runs; onData's own
      // uncork after the parser returns is then a no-op.
      down.uncork();
      finish(true, upKeepAlive);
    },
    onData(b) {
      gotBytes = true;
      // Head and body parts parsed from this read leave in one write.
      down.cork();
      parsing = true;
      const r = upSt.parser.execute(b);
      parsing = false;
      down.uncork();
      if (r instanceof Error) {
        if (status === 0) writeLocal(ex, proxyError('bad_response', 'bad response from upstream'));
        else down.destroy();
        finish(false, false);
      }
      if (nextPending) {
        nextPending = false;
        next();
      }
    },
    onClose() {
      if (finished) return;
      // Response delimited by close, or the connection died.
      if (status !== 0 && upSt.parser.finish() === undefined && !finished) return finish(true, false);
      if (status === 0 && !gotBytes && !ex.head.hasBody && attemptNo < 2) {
        // A pooled connection the server had just closed: nothing was processed, try a fresh one.
        finished = true;
        upSt.current = undefined;
        ex.upstream = undefined;
        return attempt(ex, d, attemptNo + 1);
      }
      if (status === 0) writeLocal(ex, proxyError('upstream_failed', 'upstream closed the connection'));
      else down.destroy();
      finish(false, false);
    },
    onTimeout() {
      if (finished) return;
      if (status === 0) writeLocal(ex, proxyError('response_timeout', 'upstream timed out'));
      else down.destroy();
      status = status || 504;
      finish(false, false);
    },
    onDrain() {
      down.resume();
    },
  };
  // The downstream drained: let the upstream's response flow again.
  down.on('drain', () => {
    if (!finished) up.resume();
  });

  function finish(ok: boolean, reuse: boolean): void {
    if (finished) return;
    finished = true;
    upSt.current = undefined;
    if (down.isPaused()) down.resume();
    ex.upstream = undefined;
    if (reuse && ex.requestDone) d.release(up);
    else up.destroy();
    d.done(status || 502, !ok || status >= 500);
    if (!ex.head.keepAlive) down.end();
    // Not inside the response parser's callback: the next exchange may reuse this very connection.
    if (parsing) nextPending = true;
    else process.nextTick(next);
  }

  function forward(x: Exchange, fwd: Forward, u: Socket, n: number): void {
    const h = x.head;
    let head = `${h.method} ${h.url} HTTP/1.1\r\n`;
    for (let i = 0; i < h.headers.length; i += 2) head += `${h.headers[i]}: ${h.headers[i + 1]}\r\n`;
    if (h.chunked) head += 'transfer-encoding: chunked\r\n';
    head += fwd.extraHeaders + '\r\n';
    x.upstream = u;
    // One write (one TLS record, one syscall) for the head and whatever body arrives this tick
    // (without a body, the head leaves now).
    u.cork();
    u.write(head);
    if (x.buffered) for (const b of x.buffered) u.write(b);
    x.buffered = undefined;
    if (h.hasBody) process.nextTick(uncork, u);
    else u.uncork();
    if (h.upgrade) return tunnel(x, u);

    ex = x;
    d = fwd;
    up = u;
    attemptNo = n;
    status = 0;
    chunkedResp = false;
    gotBytes = false;
    upKeepAlive = false;
    finished = false;
    upSt = upstreamState(u);
    upSt.parser.initialize(HTTPParser.RESPONSE, {});
    upSt.current = handlers;
    // The socket's inactivity timeout bounds the wait for the response; it is left set while the
    // connection idles in its pool (a timeout there finds no current response and does nothing).
    if (u.timeout !== fwd.timeoutMs) u.setTimeout(fwd.timeoutMs);
    u.resume();
  }

  return {
    drain() {
      draining = true;
      if (queue.length === 0) down.end();
    },
  };

  function tunnel(ex: Exchange, up: Socket): void {
    // Upgrade (e.g. WebSocket): after the head, bytes flow both ways untouched.
    down.removeAllListeners('data');
    up.on('data', (b) => down.write(b));
    down.on('data', (b) => up.write(b));
    up.on('close', () => down.destroy());
    down.on('close', () => up.destroy());
    up.on('error', () => down.destroy());
    void ex;
  }
}

type Forward = Extract<Decision, { kind: 'forward' }>;

const CRLF = Buffer.from('\r\n');
const uncork = (s: Socket) => s.uncork();
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
