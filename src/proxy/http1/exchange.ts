// The lean relay's requests as HTTP exchanges: the relay asks for a decision per request; this
// adapter gives it one when a stack's endpoint layer forwards (or answers) the exchange.
import type { Socket } from 'node:net';
import type { Decision, RequestHead } from './relay.js';
import type { HttpExchange, RelayForwarding } from '../http/exchange.js';
import { noop } from '../http/exchange.js';
import { rawHeaderValue } from '../../core/routes/http-route.js';

type Acquired = (err: Error | undefined, s?: Socket) => void;

/** One relay request as an exchange; `timeoutMs` bounds the wait for its response (504). */
export function relayExchange(head: RequestHead, decide: (d: Decision) => void, client: string, authority: string, timeoutMs: number): HttpExchange {
  let decided = false;
  let forwarding: RelayForwarding | undefined;
  // The relay's request for a connection, until the endpoint layer provides one.
  let waiting: Acquired | undefined;
  const connect = () =>
    forwarding!.connect((s) => {
      const cb = waiting;
      waiting = undefined;
      cb?.(undefined, s);
    });
  const x: HttpExchange = {
    method: head.method,
    path: head.url,
    authority,
    client,
    grpc: false,
    hasBody: head.hasBody,
    header: (name) => rawHeaderValue(head.headers, name),
    respond(error) {
      if (waiting) {
        // Forwarding began but no endpoint could be reached: the relay answers with this error.
        const cb = waiting;
        waiting = undefined;
        cb(error);
      } else if (!decided) {
        decided = true;
        decide({ kind: 'respond', error });
      }
      x.done(error.status, true);
    },
    sending: noop,
    done: noop,
    wire: {
      kind: 'relay',
      head,
      forward(f) {
        forwarding = f;
        if (decided) {
          // Another endpoint after a failed connect: the relay still waits for its connection.
          if (waiting) connect();
          return;
        }
        decided = true;
        decide({
          kind: 'forward',
          timeoutMs,
          get extraHeaders() {
            return forwarding!.extraHeaders;
          },
          acquire: (cb) => {
            waiting = cb;
            connect();
          },
          release: (s) => forwarding!.release(s),
          done: (status, failure) => x.done(status, failure),
        });
      },
    },
  };
  return x;
}
