// Tap relay, API side: selects the workloads a tap request names, observes each one's proxy and
// writes the events as NDJSON lines until the client goes away or the limit is reached.
import type { ServerResponse } from 'node:http';
import type { ServiceCertificate } from '../core/component.js';
import type { WorkloadInfo } from './workload-info.js';
import type { ResourceRef } from './resources.js';
import { observeProxy, type TapEvent, type TapFilter } from './tap-client.js';

export function tapTargets(workloads: WorkloadInfo[], resource: ResourceRef, namespace: string): WorkloadInfo[] {
  return workloads.filter((w) => {
    if (w.labels.namespace !== namespace) return false;
    if (!resource.name || resource.kind === 'namespace') return resource.kind !== 'namespace' || !resource.name || resource.name === namespace;
    if (resource.kind === 'deployment') return w.labels.app === resource.name || w.labels.workload === resource.name;
    if (resource.kind === 'externalworkload') return w.labels.workload === resource.name;
    return false;
  });
}

export function relayTap(opts: {
  res: ServerResponse;
  targets: WorkloadInfo[];
  filter: TapFilter;
  cert: () => ServiceCertificate;
  trustAnchorsPem: () => string;
  onError: (workload: string, err: Error) => void;
  /** Said first, one `{"notice":{workload,message}}` line each (why a target may stay silent). */
  notices?: { workload: string; message: string }[];
}): void {
  const { res } = opts;
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.flushHeaders();
  let left = opts.filter.limit || Infinity;
  let open = 0;
  const streams: { cancel(): void }[] = [];
  const finish = () => {
    for (const s of streams) s.cancel();
    if (!res.writableEnded) res.end();
  };
  const write = (line: object) => {
    if (!res.writableEnded) res.write(JSON.stringify(line) + '\n');
  };
  for (const n of opts.notices ?? []) write({ notice: n });
  for (const w of opts.targets) {
    if (!w.tapAddress) {
      const why = w.refused?.length ? `not tapped: ${w.refused.join('; ')}` : 'no known tap address for this workload (its proxy has not reported)';
      write({ error: { workload: w.key, message: why } });
      continue;
    }
    open++;
    streams.push(
      observeProxy({
        address: w.tapAddress,
        workload: w.key,
        expectedIdentity: w.identity,
        cert: opts.cert(),
        trustAnchorsPem: opts.trustAnchorsPem(),
        filter: { ...opts.filter, limit: 0 },
        onEvent: (e: TapEvent) => {
          if (left <= 0) return;
          left--;
          write({ event: e });
          if (left === 0) finish();
        },
        onEnd: (err) => {
          open--;
          if (err) {
            opts.onError(w.key, err);
            write({ error: { workload: w.key, message: err.message } });
          }
          if (open === 0) finish();
        },
      }),
    );
  }
  if (open === 0) finish();
  // Keep idle connections alive through proxies and detect a client that went away.
  const keepalive = setInterval(() => write({ keepalive: Date.now() }), 15_000);
  keepalive.unref();
  res.on('close', () => {
    clearInterval(keepalive);
    finish();
  });
}

/**
 * Why tapping a workload may print nothing: tap shows HTTP requests only, and the workload serves
 * opaque TCP (every declared port opaque, or only TCP traffic seen by the viz). Points at its TCP numbers.
 */
export function opaqueNotice(w: WorkloadInfo, tcpOnly: boolean): { workload: string; message: string } | undefined {
  if (!w.allPortsOpaque && !tcpOnly) return undefined;
  const why = w.allPortsOpaque ? 'every port of this workload is opaque' : 'this workload serves only TCP (no HTTP request seen in the last minute)';
  const stat = `outpost viz stat ew/${w.labels.workload} -n ${w.labels.namespace}`;
  return { workload: w.key, message: `${why}, and tap shows HTTP requests only: see \`${stat}\` for its TCP connections (rate, success, duration, open)` };
}
