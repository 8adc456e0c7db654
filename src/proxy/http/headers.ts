// Header conversion between HTTP/1.1 and HTTP/2 (pure): hop-by-hop headers never cross a proxy, and
// the proxies' own headers (target port, original protocol) never reach an app.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { IncomingHttpHeaders as H2Headers } from 'node:http2';
import { DST_PORT_HEADER, ORIG_PROTO_HEADER } from '../transport/header.js';

/**
 * The one set of headers that never cross a proxy, on any path (the HTTP/1.1 relay and the HTTP/2
 * conversions): hop-by-hop headers (RFC 9110 §7.6.1), the proxy credentials meant for this proxy
 * (Proxy-Authorization, Proxy-Authenticate), and the proxies' own headers (target port, original
 * protocol). Headers a Connection header names are hop-by-hop too (`connectionListed`).
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'transfer-encoding', 'te', 'upgrade', 'http2-settings',
  DST_PORT_HEADER, ORIG_PROTO_HEADER,
]);

/** HTTP/2 carries the authority in :authority: Host does not cross either when converting. */
const HOP_BY_HOP = new Set([...HOP_BY_HOP_HEADERS, 'host']);

/** The header names a Connection header value lists ("close, x-foo" -> x-foo), lower-cased; none for undefined. */
export function connectionListed(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const names = (Array.isArray(value) ? value.join(',') : value).split(',').map((t) => t.trim().toLowerCase()).filter((t) => t && t !== 'close' && t !== 'keep-alive');
  return names.length ? new Set(names) : undefined;
}

/** HTTP/1.1 request headers to HTTP/2 request headers for the peer proxy. */
export function h1RequestToH2(method: string, path: string, authority: string, h: IncomingHttpHeaders, targetPort: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': method, ':path': path, ':authority': authority, ':scheme': 'http', [DST_PORT_HEADER]: targetPort, [ORIG_PROTO_HEADER]: 'HTTP/1.1' };
  const listed = connectionListed(h.connection);
  for (const k in h) if (!HOP_BY_HOP.has(k) && !listed?.has(k)) out[k] = h[k];
  return out;
}

/** HTTP/2 request headers (from a peer or an h2 app) to forward as HTTP/2: pseudo-headers kept, ours dropped. */
export function h2RequestToH2(h: H2Headers, targetPort?: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const k in h) if (!HOP_BY_HOP.has(k)) out[k] = h[k];
  if (targetPort !== undefined) out[DST_PORT_HEADER] = targetPort;
  return out;
}

/** HTTP/2 request headers to HTTP/1.1 headers for the local app (":authority" becomes Host). */
export function h2RequestToH1(h: H2Headers): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  // HTTP/2 has no Connection header, but node:http's HTTP/1.1 requests come this way too (to unmeshed endpoints).
  const listed = connectionListed(h.connection);
  for (const k in h) if (k.charCodeAt(0) !== 58 /* : */ && !HOP_BY_HOP.has(k) && !listed?.has(k)) out[k] = h[k];
  const authority = h[':authority'];
  if (authority) out.host = authority;
  return out;
}

/** HTTP/1.1 response headers to HTTP/2 response headers. */
export function h1ResponseToH2(status: number, h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': status };
  const listed = connectionListed(h.connection);
  for (const k in h) if (!HOP_BY_HOP.has(k) && !listed?.has(k)) out[k] = h[k];
  return out;
}

/**
 * Response headers relayed in the protocol they came in (HTTP/2 to HTTP/2, HTTP/1.1 to HTTP/1.1):
 * pseudo-headers kept, hop-by-hop and Connection-listed ones (Proxy-Authenticate…) dropped.
 */
export function endToEndResponse(h: H2Headers | IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = connectionListed(h.connection);
  for (const k in h) if (!HOP_BY_HOP_HEADERS.has(k) && !listed?.has(k)) out[k] = h[k];
  return out;
}

/** HTTP/2 response headers to HTTP/1.1 response headers (pseudo-headers dropped). */
export function h2ResponseToH1(h: H2Headers): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const k in h) if (k.charCodeAt(0) !== 58 && !HOP_BY_HOP.has(k)) out[k] = h[k];
  return out;
}

/** Path of an HTTP/1.1 request target (absolute-form "http://host/p?q" -> "/p?q"). */
export function requestPath(url: string): string {
  if (url.charCodeAt(0) === 47 /* / */) return url;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  if (!m) return url;
  const rest = url.slice(m[0].length);
  return rest === '' ? '/' : rest;
}

/** Authority of an HTTP/1.1 request: absolute-form wins over Host. */
export function requestAuthority(url: string, host: string | undefined): string | undefined {
  if (url.charCodeAt(0) !== 47) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url);
    if (m) return m[1];
  }
  return host;
}

/**
 * The grpc-status of a gRPC response's trailers (or of a trailers-only response's headers), or
 * undefined when there is none. A 200 with grpc-status != 0 is a failure.
 */
export function grpcStatusOf(trailers: H2Headers | undefined): number | undefined {
  const s = trailers?.['grpc-status'];
  if (s === undefined) return undefined;
  const n = Number(Array.isArray(s) ? s[0] : s);
  return Number.isInteger(n) && n >= 0 ? n : 2 /* UNKNOWN: unparseable status */;
}
