// The opaque-TCP transport header between proxies (ALPN "outpost.tcp/1"): after the TLS handshake the
// client writes 8 bytes — magic "OPT1", target port (u16), flags (u8: bit 0 = opaque, skip
// detection), reserved (u8) — so only the peer's inbound port must be reachable. See ADR 0006.
export const ALPN_TCP = 'outpost.tcp/1';
export const ALPN_H2 = 'h2';
export const ALPN_HTTP1 = 'http/1.1';
export const HEADER_LENGTH = 8;
const MAGIC = 0x4f505431; // "OPT1"
export const FLAG_OPAQUE = 1;

/** HTTP/2 request headers between proxies: the app's target port and the original protocol. */
export const DST_PORT_HEADER = 'outpost-dst-port';
export const ORIG_PROTO_HEADER = 'outpost-orig-proto';

export interface TransportHeader {
  port: number;
  opaque: boolean;
}

export function encodeTransportHeader(h: TransportHeader): Buffer {
  const b = Buffer.allocUnsafe(HEADER_LENGTH);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt16BE(h.port, 4);
  b.writeUInt8(h.opaque ? FLAG_OPAQUE : 0, 6);
  b.writeUInt8(0, 7);
  return b;
}

/** Decodes a header from the start of `buf`: undefined = need more bytes; Error = not a header. */
export function decodeTransportHeader(buf: Buffer): TransportHeader | Error | undefined {
  if (buf.length < HEADER_LENGTH) {
    // Fail early on a wrong magic even with a partial header.
    const m = Buffer.from('OPT1');
    for (let i = 0; i < Math.min(buf.length, 4); i++) if (buf[i] !== m[i]) return new Error('bad transport header magic');
    return undefined;
  }
  if (buf.readUInt32BE(0) !== MAGIC) return new Error('bad transport header magic');
  const port = buf.readUInt16BE(4);
  if (port === 0) return new Error('transport header names port 0');
  return { port, opaque: (buf.readUInt8(6) & FLAG_OPAQUE) !== 0 };
}

/** What a connection's first bytes say about its protocol (pure). */
export type Detected = 'http1' | 'h2' | 'opaque' | 'more';
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const METHOD = /^(GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE) /;

export function detectProtocol(buf: Buffer): Detected {
  const n = Math.min(buf.length, H2_PREFACE.length);
  if (buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return n === H2_PREFACE.length ? 'h2' : 'more';
  const head = buf.subarray(0, 16).toString('latin1');
  if (METHOD.test(head)) {
    const eol = buf.indexOf('\r\n');
    if (eol < 0) return buf.length > 8192 ? 'opaque' : 'more';
    return / HTTP\/1\.[01]$/.test(buf.subarray(0, eol).toString('latin1')) ? 'http1' : 'opaque';
  }
  if (buf.length < 8 && /^[A-Z]*$/.test(head)) return 'more';
  return 'opaque';
}
