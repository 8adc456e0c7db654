// A small, protocol-faithful Redis server and client (RESP2: arrays of bulk strings, inline
// commands; replies +simple, -error, :integer, $bulk, *array). Enough for PING/ECHO/SET/GET/DEL/INCR,
// which is what the demo's api-server uses; redis-cli and real Redis clients speak to it too.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type RespValue = string | number | null | Error | RespValue[] | { simple: string };

/** Parses one complete RESP value (or inline command) from buf at offset; undefined if incomplete. */
export function parseResp(buf: Buffer, offset = 0): { value: RespValue; next: number } | undefined {
  if (offset >= buf.length) return undefined;
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: { simple: line }, next: after };
    case '-':
      return { value: new Error(line), next: after };
    case ':':
      return { value: Number(line), next: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return undefined;
      return { value: buf.toString('utf8', after, after + len), next: after + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      const items: RespValue[] = [];
      let pos = after;
      for (let i = 0; i < n; i++) {
        const item = parseResp(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default: // inline command: "PING\r\n"
      return { value: buf.toString('utf8', offset, lineEnd).trim().split(/\s+/).filter(Boolean), next: after };
  }
}

export function encodeResp(v: RespValue): string {
  if (v === null) return '$-1\r\n';
  if (v instanceof Error) return `-${v.message}\r\n`;
  if (typeof v === 'number') return `:${v}\r\n`;
  if (typeof v === 'string') return `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  if (Array.isArray(v)) return `*${v.length}\r\n${v.map(encodeResp).join('')}`;
  return `+${v.simple}\r\n`;
}

const OK = { simple: 'OK' };

/** Executes one command against the store. */
export function execute(store: Map<string, string>, args: string[]): RespValue {
  const [cmd = '', ...rest] = args;
  const arity = (n: number) => (rest.length < n ? new Error(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`) : undefined);
  switch (cmd.toUpperCase()) {
    case 'PING':
      return rest.length ? rest[0] : { simple: 'PONG' };
    case 'ECHO':
      return arity(1) ?? rest[0];
    case 'SET':
      if (arity(2)) return arity(2)!;
      store.set(rest[0], rest[1]);
      return OK;
    case 'GET':
      return arity(1) ?? store.get(rest[0]) ?? null;
    case 'DEL':
      return arity(1) ?? rest.filter((k) => store.delete(k)).length;
    case 'INCR': {
      if (arity(1)) return arity(1)!;
      const n = Number(store.get(rest[0]) ?? '0');
      if (!Number.isInteger(n)) return new Error('ERR value is not an integer or out of range');
      store.set(rest[0], String(n + 1));
      return n + 1;
    }
    case 'DBSIZE':
      return store.size;
    case 'COMMAND':
      return [];
    case 'QUIT':
      return OK;
    default:
      return new Error(`ERR unknown command '${cmd}'`);
  }
}

export interface RespServerStats {
  commands: number;
  connections: number;
}

export function startRespServer(host: string, port: number): Promise<{ server: Server; stats: RespServerStats }> {
  const store = new Map<string, string>();
  const stats: RespServerStats = { commands: 0, connections: 0 };
  const server = createServer((sock: Socket) => {
    stats.connections++;
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let parsed;
      while ((parsed = parseResp(buf))) {
        buf = buf.subarray(parsed.next);
        const args = Array.isArray(parsed.value) ? parsed.value.map(String) : [];
        stats.commands++;
        sock.write(encodeResp(execute(store, args)));
        if (args[0]?.toUpperCase() === 'QUIT') return void sock.end();
      }
      if (buf.length > 1 << 20) sock.destroy(); // no command is that large here
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, stats }));
  });
}

/** Opens a connection, runs the commands in order, closes; rejects on a protocol error or timeout. */
export function respCommands(host: string, port: number, commands: string[][], timeoutMs = 3000): Promise<RespValue[]> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const replies: RespValue[] = [];
    let buf = Buffer.alloc(0);
    const done = (e?: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (e) reject(e);
      else resolve(replies);
    };
    const timer = setTimeout(() => done(new Error('redis: timed out')), timeoutMs);
    sock.on('connect', () => sock.write(commands.map((c) => encodeResp(c)).join('')));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let parsed;
      while ((parsed = parseResp(buf))) {
        buf = buf.subarray(parsed.next);
        replies.push(parsed.value);
        if (replies.length === commands.length) return done();
      }
    });
    sock.on('error', (e) => done(e));
    sock.on('close', () => done(new Error(`redis: connection closed after ${replies.length}/${commands.length} replies`)));
  });
}
