// Store benchmark (not a test): creates/s for 10,000 ExternalWorkloads, 10k-object list time, and
// watch delivery latency to 100 watchers. Run: node --import tsx bench/store.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { KubeObject, ResourceRef } from '../src/store/types.js';

const ref: ResourceRef = { group: 'workload.linkerd.io', resource: 'externalworkloads' };
const COUNT = 10_000;
const IN_FLIGHT = 64; // concurrent writers, like concurrent HTTP requests
const WATCHERS = 100;

function workload(name: string, i: number): KubeObject {
  return {
    apiVersion: 'workload.linkerd.io/v1beta1',
    kind: 'ExternalWorkload',
    metadata: {
      name,
      namespace: `ns${i % 10}`,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      generation: 1,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'payment-processor', location: 'vm' },
    },
    spec: {
      meshTLS: { identity: `spiffe://root.linkerd.cluster.local/proxy-harness/${name}`, serverName: `${name}.cluster.local` },
      workloadIPs: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-store-'));
  const store = openSqliteStore(join(dir, 'state.db'));
  try {
    // 1. Creates with IN_FLIGHT concurrent writers (each awaits its own durable ack).
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < COUNT) {
          const i = next++;
          await store.create(ref, workload(`ew-${i}`, i));
        }
      }),
    );
    const createMs = performance.now() - start;
    console.log(`creates: ${COUNT} in ${createMs.toFixed(0)} ms = ${Math.round((COUNT / createMs) * 1000)}/s (${IN_FLIGHT} in flight, fsync per batch)`);

    // 2. List all (store only, then with JSON serialisation as the API server would do).
    store.list(ref); // first list sorts the key index once
    const times: number[] = [];
    const jsonTimes: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      const result = store.list(ref);
      const t1 = performance.now();
      JSON.stringify({ kind: 'ExternalWorkloadList', items: result.items });
      jsonTimes.push(performance.now() - t0);
      times.push(t1 - t0);
    }
    times.sort((a, b) => a - b);
    jsonTimes.sort((a, b) => a - b);
    console.log(`list ${COUNT}: store ${times[2].toFixed(1)} ms, with JSON.stringify ${jsonTimes[2].toFixed(1)} ms (median of 5)`);
    const paged = performance.now();
    let token: string | undefined;
    let pages = 0;
    do {
      const page = store.list(ref, { limit: 500, continue: token });
      token = page.continue;
      pages++;
    } while (token);
    console.log(`list in pages of 500: ${pages} pages in ${(performance.now() - paged).toFixed(1)} ms`);

    // 3. Watch delivery: WATCHERS watchers, 2,000 updates at ~2,000/s; latency = write call -> listener.
    const issued = new Map<string, number>();
    const latencies: number[] = [];
    const handles = Array.from({ length: WATCHERS }, () =>
      store.watch(ref, {}, (e) => {
        const t = issued.get(`${e.name}@${e.object.metadata.resourceVersion}`) ?? issued.get(e.name);
        if (t !== undefined) latencies.push(performance.now() - t);
      }),
    );
    const updates = 2_000;
    const perTick = 20;
    for (let i = 0; i < updates; i += perTick) {
      const batch: Promise<unknown>[] = [];
      for (let k = i; k < i + perTick; k++) {
        const name = `ew-${k}`;
        issued.set(name, performance.now());
        const live = store.get(ref, `ns${k % 10}`, name) as KubeObject;
        batch.push(store.update(ref, { ...live, metadata: { ...live.metadata, labels: { app: 'payment-processor', rev: String(k) } } }));
      }
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const h of handles) h.close();
    latencies.sort((a, b) => a - b);
    console.log(
      `watch delivery, ${WATCHERS} watchers, ${latencies.length} deliveries: p50 ${percentile(latencies, 50).toFixed(2)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(2)} ms, max ${latencies[latencies.length - 1].toFixed(2)} ms`,
    );
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
