// The relay's one dependency on Node internals (ADR 0027): loaded and shape-checked at start, so a
// Node release that changes _http_common stops the proxy with a readable reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlhttp } from '../../src/proxy/http1/llhttp.js';

test("this Node's _http_common has everything the relay uses, and its parser parses a request", () => {
  const { HTTPParser, methods, kOnHeadersComplete, kOnMessageComplete } = loadLlhttp();
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {});
  let head: { method: string; url: string; headers: string[] } | undefined;
  let complete = false;
  parser[kOnHeadersComplete] = (_maj: number, _min: number, headers: string[], method: number, url: string) => {
    head = { method: methods[method], url, headers };
    return 0;
  };
  parser[kOnMessageComplete] = () => (complete = true);
  parser.execute(Buffer.from('GET /x?y=1 HTTP/1.1\r\nHost: a.apps\r\n\r\n'));
  parser.close();
  assert.deepEqual(head, { method: 'GET', url: '/x?y=1', headers: ['Host', 'a.apps'] });
  assert.equal(complete, true);
});

test('a Node without _http_common, or with another shape, is refused with the reason and the ADR', () => {
  assert.throws(
    () =>
      loadLlhttp(() => {
        throw new Error("Cannot find module '_http_common'");
      }),
    /the HTTP\/1\.1 relay needs Node's internal _http_common, which this Node \(v[\d.]+\) does not provide: Cannot find module '_http_common' \(ADR 0027\)/,
  );
  class Parser {
    initialize() {}
  }
  assert.throws(() => loadLlhttp(() => ({ HTTPParser: Object.assign(Parser, { REQUEST: 1, RESPONSE: 2 }), methods: [] })), /lacks HTTPParser\.kOnHeaders, HTTPParser\.kOnHeadersComplete, HTTPParser\.kOnBody, HTTPParser\.kOnMessageComplete, HTTPParser#execute, which the HTTP\/1\.1 relay uses \(ADR 0027\)/);
});
