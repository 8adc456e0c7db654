// The few DNS message operations the VM's DNS proxy needs (RFC 1035), pure: read a query's single
// question, and build an answer to it (A/AAAA records, an empty answer, NXDOMAIN or SERVFAIL).
// Anything else is never parsed further: such queries are forwarded byte for byte.
import { isIPv4 } from 'node:net';

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE_NOERROR = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;

export interface Question {
  id: number;
  /** Lower case, without the trailing dot. */
  name: string;
  type: number;
  klass: number;
  /** Offset just past the question: the question section is bytes 12..end of the query. */
  end: number;
  /** The query's flags (opcode and RD are echoed in the answer). */
  flags: number;
}

/** The question of a standard query with exactly one question, or undefined (malformed, or not one we answer). */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response
  if ((flags >> 11) & 0xf) return undefined; // not a standard query
  if (msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off];
    if (len === 0) {
      off++;
      break;
    }
    if (len > 63 || off + 1 + len > msg.length) return undefined; // compression pointers never start a question
    labels.push(msg.toString('latin1', off + 1, off + 1 + len).toLowerCase());
    off += 1 + len;
  }
  if (off + 4 > msg.length) return undefined;
  return { id: msg.readUInt16BE(0), name: labels.join('.'), type: msg.readUInt16BE(off), klass: msg.readUInt16BE(off + 2), end: off + 4, flags };
}

/** The answer to `q` (asked in `query`): the addresses of the type asked for, or an error code. */
export function buildAnswer(query: Buffer, q: Question, rcode: number, addresses: string[] = [], ttl = 5): Buffer {
  const records = addresses.filter((a) => (q.type === TYPE_A ? isIPv4(a) : q.type === TYPE_AAAA ? !isIPv4(a) : false));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, the query's opcode and RD, AA (we are the authority for mesh names), RA.
  header.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rcode === RCODE_NOERROR ? records.length : 0, 6);
  const parts = [header, query.subarray(12, q.end)];
  if (rcode === RCODE_NOERROR) {
    for (const a of records) {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      rr.writeUInt16BE(q.type, 2);
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(ttl, 6);
      const data = addressBytes(a);
      rr.writeUInt16BE(data.length, 10);
      parts.push(rr, data);
    }
  }
  return Buffer.concat(parts);
}

function addressBytes(a: string): Buffer {
  if (isIPv4(a)) return Buffer.from(a.split('.').map(Number));
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = a.includes('::') && tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
