// Protobuf wire codec for tap.proto's two messages and gRPC message framing (pure). Hand-written so
// the proxy's tap server needs no gRPC library (that would cost ~14 MB of RSS in every proxy).
import type { TapEventData, TapFilter } from './hub.js';

export interface ObserveRequest extends TapFilter {
  limit: number;
}

function readVarint(b: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated varint');
    const byte = b[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
}

export function decodeObserveRequest(b: Buffer): ObserveRequest {
  const out: ObserveRequest = { limit: 0 };
  let pos = 0;
  while (pos < b.length) {
    let key: number;
    [key, pos] = readVarint(b, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      let v: number;
      [v, pos] = readVarint(b, pos);
      if (field === 1) out.limit = v;
    } else if (wire === 2) {
      let len: number;
      [len, pos] = readVarint(b, pos);
      const s = b.toString('utf8', pos, pos + len);
      pos += len;
      if (field === 2) out.method = s || undefined;
      else if (field === 3) out.pathPrefix = s || undefined;
      else if (field === 4) out.authority = s || undefined;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

class Writer {
  private parts: Buffer[] = [];
  private small: number[] = [];

  private flushSmall(): void {
    if (this.small.length) {
      this.parts.push(Buffer.from(this.small));
      this.small = [];
    }
  }

  varint(v: number): void {
    while (v >= 0x80) {
      this.small.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.small.push(v);
  }

  key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  string(field: number, s: string): void {
    if (!s) return;
    const b = Buffer.from(s, 'utf8');
    this.bytes(field, b);
  }

  bytes(field: number, b: Buffer): void {
    this.key(field, 2);
    this.varint(b.length);
    this.flushSmall();
    this.parts.push(b);
  }

  uint(field: number, v: number): void {
    if (!v) return;
    this.key(field, 0);
    this.varint(Math.max(0, Math.floor(v)));
  }

  double(field: number, v: number): void {
    if (!v) return;
    this.key(field, 1);
    this.flushSmall();
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(v, 0);
    this.parts.push(b);
  }

  finish(): Buffer {
    this.flushSmall();
    return Buffer.concat(this.parts);
  }
}

export function encodeTapEvent(e: TapEventData): Buffer {
  const w = new Writer();
  w.string(1, e.direction);
  w.string(2, e.source);
  w.string(3, e.destination);
  w.string(4, e.sourceIdentity);
  w.string(5, e.destinationIdentity);
  w.string(6, e.method);
  w.string(7, e.authority);
  w.string(8, e.path);
  w.uint(9, e.status);
  w.double(10, e.latencyMs);
  w.uint(11, e.timestampMs);
  for (const [k, v] of Object.entries(e.destinationLabels)) {
    const entry = new Writer();
    entry.string(1, k);
    entry.string(2, v);
    w.bytes(12, entry.finish());
  }
  w.uint(13, e.tls ? 1 : 0);
  if (e.grpcStatus !== undefined) w.string(14, String(e.grpcStatus));
  return w.finish();
}

/** One gRPC length-prefixed message (uncompressed). */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** Extracts the first complete gRPC message from `buf`, or undefined if more bytes are needed. */
export function readGrpcMessage(buf: Buffer): Buffer | undefined {
  if (buf.length < 5) return undefined;
  if (buf[0] !== 0) throw new Error('compressed gRPC messages are not supported');
  const len = buf.readUInt32BE(1);
  return buf.length >= 5 + len ? buf.subarray(5, 5 + len) : undefined;
}
