// Flag parsing: typed values, defaults, and every bad value reported at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseFlags } from '../../src/core/flags.js';

const specs = {
  port: { type: 'int', default: 6443, min: 0, max: 65535, help: '' },
  name: { type: 'string', help: '' },
  verbose: { type: 'bool', help: '' },
  grace: { type: 'duration', default: 30_000, help: '' },
  tag: { type: 'list', help: '' },
} as const;

test('parses typed flags, defaults and positionals', () => {
  const r = parseFlags(['up', '--port', '0', '--name=x', '--verbose', '--tag', 'a', '--tag=b', '--grace', '1m30s'], specs);
  assert.deepEqual(r.positionals, ['up']);
  assert.equal(r.flags.port, 0);
  assert.equal(r.flags.name, 'x');
  assert.equal(r.flags.verbose, true);
  assert.deepEqual(r.flags.tag, ['a', 'b']);
  assert.equal(r.flags.grace, 90_000);
  assert.equal(parseFlags([], specs).flags.port, 6443);
});

test('reports every bad value at once', () => {
  assert.throws(
    () => parseFlags(['--port', '70000', '--grace', 'soon', '--bogus'], specs),
    (e: Error) => /--port: must be at most 65535/.test(e.message) && /--grace: expected a duration/.test(e.message) && /unknown flag --bogus/.test(e.message),
  );
});

test('durations', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('10'), 10_000);
  assert.equal(parseDuration('ten'), undefined);
});
