// The demo's protocol-faithful servers: the PostgreSQL one answers the real `psql`, the Redis one
// speaks RESP (arrays and inline commands); the api-server's calls go through both.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { pgQuery, runQuery, startPgServer } from '../../src/demo/apps/pgwire.js';
import { run } from '../support/cli.js';
import { encodeResp, execute, parseResp, respCommands, startRespServer } from '../../src/demo/apps/resp.js';

describe('demo postgres server', () => {
  it('answers the simple statements it knows and errors on the rest (pure)', () => {
    assert.deepEqual(runQuery('select 1;'), { columns: [{ name: '?column?', type: 'int4' }], rows: [['1']], tag: 'SELECT 1' });
    const order = runQuery('SELECT * FROM orders WHERE id = 42');
    assert.ok(!('error' in order) && order.rows.length === 1 && order.rows[0][0] === '42');
    assert.deepEqual(runQuery('SELECT * FROM users'), { error: 'relation "users" does not exist', code: '42P01' });
    assert.equal((runQuery('DROP TABLE orders') as { code: string }).code, '42601');
  });

  it('speaks the wire protocol: the real psql and the demo client get rows and errors', async () => {
    const { server } = await startPgServer('127.0.0.1', 0);
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await pgQuery('127.0.0.1', port, 'SELECT * FROM orders WHERE id = 7');
      assert.equal(r.tag, 'SELECT 1');
      assert.equal(r.rows[0][0], '7');
      await assert.rejects(pgQuery('127.0.0.1', port, 'SELECT * FROM nope'), /relation "nope" does not exist/);
      // The server runs in this process, so psql must run asynchronously.
      const psql = await run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'app', '-d', 'myapp', '-w', '-Atc', 'SELECT * FROM orders WHERE id = 7'], { timeoutMs: 10_000, env: { ...process.env, PGCONNECT_TIMEOUT: '5' } }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined; // psql not installed here
        throw e;
      });
      if (!psql) return;
      assert.equal(psql.code, 0, psql.stderr);
      assert.equal(psql.stdout.trim(), r.rows[0].join('|'));
    } finally {
      server.close();
    }
  });
});

describe('demo redis server', () => {
  it('parses and encodes RESP (pure)', () => {
    const buf = Buffer.from(encodeResp(['SET', 'k', 'v']) + 'PING\r\n');
    const first = parseResp(buf)!;
    assert.deepEqual(first.value, ['SET', 'k', 'v']);
    assert.deepEqual(parseResp(buf, first.next)!.value, ['PING']);
    assert.equal(parseResp(Buffer.from('$5\r\nhel')), undefined, 'incomplete');
    const store = new Map<string, string>();
    assert.deepEqual(execute(store, ['SET', 'a', '1']), { simple: 'OK' });
    assert.equal(execute(store, ['INCR', 'a']), 2);
    assert.equal(execute(store, ['GET', 'missing']), null);
    assert.match((execute(store, ['FLY']) as Error).message, /unknown command/);
  });

  it('serves pipelined commands and inline commands over TCP', async () => {
    const { server, stats } = await startRespServer('127.0.0.1', 0);
    const port = (server.address() as AddressInfo).port;
    try {
      assert.deepEqual(await respCommands('127.0.0.1', port, [['SET', 'order:1', 'x'], ['GET', 'order:1'], ['DEL', 'order:1'], ['PING']]), [{ simple: 'OK' }, 'x', 1, { simple: 'PONG' }]);
      const inline = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port }, () => s.write('PING\r\n'));
        s.once('data', (d) => (resolve(d.toString()), s.destroy()));
        s.once('error', reject);
      });
      assert.equal(inline, '+PONG\r\n');
      assert.equal(stats.commands, 5);
    } finally {
      server.close();
    }
  });
});
