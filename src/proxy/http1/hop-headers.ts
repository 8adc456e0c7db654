// Which headers of an HTTP/1.1 head the relay drops: the shared hop-by-hop set plus Trailer, those a
// Connection header lists, and a cheap length test that rules most names out without lower-casing.
import { HOP_BY_HOP_HEADERS, connectionListed } from '../http/headers.js';

// The shared hop-by-hop set, plus Trailer: the relay re-frames chunked bodies without trailers.
export const HOP = new Set([...HOP_BY_HOP_HEADERS, 'trailer']);

const PLAIN_CONNECTION = new Map([['keep-alive'.length, 'keep-alive'], ['close'.length, 'close']]);

/** Headers named by the Connection header(s) of a raw name/value list (hop-by-hop too), or undefined. */
export function listedInConnection(raw: string[]): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === 'connection') {
      // The usual values name no header: skip the parsing (and its arrays) for them.
      if (PLAIN_CONNECTION.has(raw[i + 1].length) && PLAIN_CONNECTION.get(raw[i + 1].length) === raw[i + 1].toLowerCase()) continue;
      const names = connectionListed(raw[i + 1]);
      if (names) listed = listed ? new Set([...listed, ...names]) : names;
    }
  }
  return listed;
}

/**
 * False for a header name that cannot be hop-by-hop (nor transfer-encoding): most names are ruled out
 * by their length alone, without lower-casing them. Lengths of HOP and transfer-encoding.
 */
const HOP_LENGTHS = new Set([...HOP, 'transfer-encoding'].map((n) => n.length));
export const mayBeHopByHop = (name: string) => HOP_LENGTHS.has(name.length);
/** The same for a request head, which the relay also reads content-length, host and outpost-dst-port from. */
export const REQUEST_SPECIAL_LENGTHS = new Set([...HOP_LENGTHS, 'content-length'.length, 'host'.length, 'outpost-dst-port'.length]);

