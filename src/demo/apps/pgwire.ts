// A small, protocol-faithful PostgreSQL server and client (frontend/backend protocol v3, simple
// query flow): SSLRequest refused with 'N', trust authentication, ParameterStatus, BackendKeyData,
// ReadyForQuery, Query → RowDescription/DataRow/CommandComplete or ErrorResponse, Terminate.
// It serves an in-memory `orders` table; `psql -h HOST -p PORT -U app myapp` can talk to it.
import { createServer, connect, type Server, type Socket } from 'node:net';

const PROTOCOL_V3 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TEXT_OID = 25;
const INT4_OID = 23;

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};

export interface QueryResult {
  columns: { name: string; type: 'text' | 'int4' }[];
  rows: (string | null)[][];
  tag: string;
}

/** The demo database (pure): a few statements over a deterministic `orders` table of 1000 rows. */
export function runQuery(sql: string): QueryResult | { error: string; code: string } {
  const q = sql.trim().replace(/;\s*$/, '').replace(/\s+/g, ' ');
  const order = (id: number) => [String(id), `customer-${(id * 7919) % 97}`, String((id * 31) % 500 + 10)];
  const orderColumns: QueryResult['columns'] = [{ name: 'id', type: 'int4' }, { name: 'customer', type: 'text' }, { name: 'total', type: 'int4' }];
  let m: RegExpExecArray | null;
  if (/^select 1$/i.test(q)) return { columns: [{ name: '?column?', type: 'int4' }], rows: [['1']], tag: 'SELECT 1' };
  if (/^select version\(\)$/i.test(q)) return { columns: [{ name: 'version', type: 'text' }], rows: [['PostgreSQL 16.0 (outpost demo server)']], tag: 'SELECT 1' };
  if (/^select count\(\*\) from orders$/i.test(q)) return { columns: [{ name: 'count', type: 'int4' }], rows: [['1000']], tag: 'SELECT 1' };
  if ((m = /^select \* from orders where id ?= ?(\d+)$/i.exec(q))) {
    const id = Number(m[1]);
    return { columns: orderColumns, rows: id >= 1 && id <= 1000 ? [order(id)] : [], tag: `SELECT ${id >= 1 && id <= 1000 ? 1 : 0}` };
  }
  if (/^select .* from (\w+)/i.test(q) && !/ from orders/i.test(q)) return { error: `relation "${/ from (\w+)/i.exec(q)![1]}" does not exist`, code: '42P01' };
  return { error: `syntax error or unsupported statement: ${q.slice(0, 80)}`, code: '42601' };
}

function errorResponse(msg: string, code: string): Buffer {
  return message('E', Buffer.concat([Buffer.from('S'), cstr('ERROR'), Buffer.from('V'), cstr('ERROR'), Buffer.from('C'), cstr(code), Buffer.from('M'), cstr(msg), Buffer.from([0])]));
}

function resultMessages(r: QueryResult): Buffer {
  const fields = r.columns.map((c) => Buffer.concat([cstr(c.name), int32(0), int16(0), int32(c.type === 'int4' ? INT4_OID : TEXT_OID), int16(c.type === 'int4' ? 4 : -1), int32(-1), int16(0)]));
  const desc = message('T', Buffer.concat([int16(r.columns.length), ...fields]));
  const rows = r.rows.map((row) => message('D', Buffer.concat([int16(row.length), ...row.map((v) => (v === null ? int32(-1) : Buffer.concat([int32(Buffer.byteLength(v)), Buffer.from(v)])))])));
  return Buffer.concat([desc, ...rows, message('C', cstr(r.tag))]);
}

const readyForQuery = () => message('Z', Buffer.from('I'));

export interface PgServerStats {
  queries: number;
  connections: number;
}

export function startPgServer(host: string, port: number): Promise<{ server: Server; stats: PgServerStats }> {
  const stats: PgServerStats = { queries: 0, connections: 0 };
  let nextPid = 1000;
  const server = createServer((sock: Socket) => {
    stats.connections++;
    let buf = Buffer.alloc(0);
    let started = false;
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (!started) {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          if (len < 8 || len > 10_000) return void sock.destroy();
          if (buf.length < len) return;
          const code = buf.readInt32BE(4);
          const body = buf.subarray(8, len);
          buf = buf.subarray(len);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            sock.write('N'); // the proxies' mTLS protects this hop
            continue;
          }
          if (code === CANCEL_REQUEST) return void sock.end();
          if (code !== PROTOCOL_V3) return void sock.end(errorResponse(`unsupported frontend protocol ${code >> 16}.${code & 0xffff}`, '0A000'));
          void body; // user/database are accepted as given (trust authentication)
          started = true;
          const params: [string, string][] = [['server_version', '16.0'], ['server_encoding', 'UTF8'], ['client_encoding', 'UTF8'], ['DateStyle', 'ISO, MDY'], ['integer_datetimes', 'on'], ['standard_conforming_strings', 'on']];
          sock.write(Buffer.concat([message('R', int32(0)), ...params.map(([k, v]) => message('S', Buffer.concat([cstr(k), cstr(v)]))), message('K', Buffer.concat([int32(nextPid++), int32(0x5eed)])), readyForQuery()]));
          continue;
        }
        if (buf.length < 5) return;
        const type = String.fromCharCode(buf[0]);
        const len = buf.readInt32BE(1);
        if (len < 4 || len > 1 << 20) return void sock.destroy();
        if (buf.length < len + 1) return;
        const body = buf.subarray(5, len + 1);
        buf = buf.subarray(len + 1);
        if (type === 'X') return void sock.end();
        if (type === 'Q') {
          stats.queries++;
          const sql = body.toString('utf8').replace(/\0$/, '');
          if (!sql.trim()) sock.write(Buffer.concat([message('I', Buffer.alloc(0)), readyForQuery()]));
          else {
            const r = runQuery(sql);
            sock.write(Buffer.concat(['error' in r ? errorResponse(r.error, r.code) : resultMessages(r), readyForQuery()]));
          }
        } else sock.write(Buffer.concat([errorResponse(`message type '${type}' is not supported by this demo server (simple query protocol only)`, '0A000'), readyForQuery()]));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, stats }));
  });
}

/** Connects, authenticates, runs one simple query and terminates; resolves the rows. */
export function pgQuery(host: string, port: number, sql: string, timeoutMs = 3000): Promise<{ rows: (string | null)[][]; tag: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const rows: (string | null)[][] = [];
    let tag = '';
    let error: string | undefined;
    let sentQuery = false;
    let settled = false;
    const done = (e?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!e) sock.end(message('X', Buffer.alloc(0)));
      sock.destroy();
      if (e) reject(e);
      else resolve({ rows, tag });
    };
    const timer = setTimeout(() => done(new Error('postgres: timed out')), timeoutMs);
    sock.on('connect', () => {
      const params = Buffer.concat([cstr('user'), cstr('app'), cstr('database'), cstr('myapp'), Buffer.from([0])]);
      sock.write(Buffer.concat([int32(params.length + 8), int32(PROTOCOL_V3), params]));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const type = String.fromCharCode(buf[0]);
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) return;
        const body = buf.subarray(5, len + 1);
        buf = buf.subarray(len + 1);
        if (type === 'R' && body.readInt32BE(0) !== 0) return done(new Error('postgres: server asked for a password'));
        if (type === 'E') error = body.toString('utf8').split('\0').find((f) => f.startsWith('M'))?.slice(1) ?? 'error';
        if (type === 'D') {
          const n = body.readInt16BE(0);
          const row: (string | null)[] = [];
          let pos = 2;
          for (let i = 0; i < n; i++) {
            const l = body.readInt32BE(pos);
            pos += 4;
            row.push(l < 0 ? null : body.toString('utf8', pos, pos + l));
            if (l > 0) pos += l;
          }
          rows.push(row);
        }
        if (type === 'C') tag = body.toString('utf8').replace(/\0$/, '');
        if (type === 'Z') {
          if (error) return done(new Error(`postgres: ${error}`));
          if (!sentQuery) {
            sentQuery = true;
            sock.write(message('Q', cstr(sql)));
          } else return done();
        }
      }
    });
    sock.on('error', (e) => done(e));
    sock.on('close', () => done(new Error(sentQuery ? 'postgres: connection closed during the query' : 'postgres: connection closed before authentication')));
  });
}
