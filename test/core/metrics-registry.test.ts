// The one metric registry (src/core/metrics/registry.ts) as a scraper reads it: families in the
// order declared, unlabeled samples without braces, values read at scrape time, control-plane
// families on it render what their dashboards match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, labelString } from '../../src/core/metrics/registry.js';
import { ServiceMetrics } from '../../src/core/grpc/service-metrics.js';
import { parseMetricsText } from '../../src/core/metrics/prom-text.js';
import { createInjectorMetrics } from '../../src/injector/metrics.js';

test('a sample without labels has no braces; a labeled family without samples shows HELP and TYPE only', () => {
  const reg = new Registry();
  reg.counter('a_total', 'A by reason.');
  reg.counter('b_total', 'B.').cell('').value = 3;
  assert.equal(reg.render(), '# HELP a_total A by reason.\n# TYPE a_total counter\n# HELP b_total B.\n# TYPE b_total counter\nb_total 3\n');
});

test('read(): the value is taken at each scrape, not when declared', () => {
  const reg = new Registry();
  let open = 1;
  reg.read('gauge', 'streams_open', 'Open.', () => open);
  assert.match(reg.render(), /^streams_open 1$/m);
  open = 5;
  assert.match(reg.render(), /^streams_open 5$/m);
});

test('control-plane metrics render on the registry: gRPC service gauges and counters, injector labels escaped', () => {
  let restarts = 0;
  const m = new ServiceMetrics('destination', () => restarts);
  m.streamsOpen += 2;
  m.overflows++;
  restarts = 4;
  const text = m.text();
  assert.match(text, /# TYPE outpost_destination_streams_open gauge\noutpost_destination_streams_open 2\n/);
  assert.match(text, /\noutpost_destination_stream_overflows_total 1\n/);
  assert.match(text, /\noutpost_destination_informer_restarts_total 4\n$/);
  const inj = createInjectorMetrics();
  inj.failure('bad "name"');
  inj.admission('injected');
  assert.match(inj.render(), /outpost_injector_failures_total\{reason="bad \\"name\\""\} 1\n/);
  assert.match(inj.render(), /outpost_injector_admissions_total\{result="injected"\} 1\n/);
  assert.match(inj.render(), /\noutpost_injector_uninjected_pods_total 0\n$/);
  assert.equal(labelString({ a: 'x', b: undefined }), 'a="x"');
});

test('what the registry renders, the parser reads back: escaped label values, unlabeled samples, histogram buckets', () => {
  const reg = new Registry();
  reg.counter('refused_total', 'Refused.').cell(labelString({ reason: 'bad "x"\nline', peer: 'a\\b' })).value = 2;
  reg.gauge('open', 'Open.').cell('').value = 7;
  reg.histogram('latency_ms', 'Latency.').cell(labelString({ direction: 'inbound' })).observe(3);
  const samples = parseMetricsText(reg.render());
  assert.deepEqual(samples.find((s) => s.name === 'refused_total'), { name: 'refused_total', labels: { reason: 'bad "x"\nline', peer: 'a\\b' }, value: 2 });
  assert.deepEqual(samples.find((s) => s.name === 'open'), { name: 'open', labels: {}, value: 7 });
  assert.equal(samples.find((s) => s.name === 'latency_ms_bucket' && s.labels.le === '+Inf')?.value, 1);
  assert.deepEqual(parseMetricsText(reg.render(), (n) => n === 'open').map((s) => s.name), ['open']);
});
