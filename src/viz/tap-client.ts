// Tap relay, proxy side: opens Observe streams to proxies' tap servers over mTLS with the viz's
// client certificate (spiffe://<td>/ns/outpost/sa/outpost-viz) and checks each proxy presents the
// identity its workload declares.
import * as grpc from '@grpc/grpc-js';
import type { ObserveRequest, TapEvent__Output } from '../api/gen/tap.js';
import { serviceClient } from '../api/load.js';
import type { ServiceCertificate } from '../core/component.js';
import { uriSans } from '../core/grpc/server.js';
import type { TapEventFields } from '../api/model.js';

/** A tap event as the viz relays it: the proxy's event plus the workload whose proxy saw it. */
export interface TapEvent extends TapEventFields {
  /** "namespace/name" of the workload whose proxy saw the request. */
  workload: string;
}

export interface TapFilter {
  method?: string;
  pathPrefix?: string;
  authority?: string;
  limit?: number;
}

type TapClient = grpc.Client & { observe(req: ObserveRequest): grpc.ClientReadableStream<TapEvent__Output> };

/** Streams one proxy's tap events until `cancel` is called or the stream ends (onEnd gets the error, if any). */
export function observeProxy(opts: {
  address: string;
  workload: string;
  /** The identity the proxy must present; empty = any certificate from the trust anchors. */
  expectedIdentity: string;
  cert: ServiceCertificate;
  trustAnchorsPem: string;
  filter: TapFilter;
  onEvent: (e: TapEvent) => void;
  onEnd: (err?: Error) => void;
}): { cancel(): void } {
  const creds = grpc.credentials.createSsl(Buffer.from(opts.trustAnchorsPem), Buffer.from(opts.cert.keyPem), Buffer.from(opts.cert.chainPem), {
    checkServerIdentity: (_host, cert) => {
      if (!opts.expectedIdentity) return undefined;
      const ids = uriSans(cert.subjectaltname);
      return ids.includes(opts.expectedIdentity) ? undefined : new Error(`tap: ${opts.address} presented ${ids[0] ?? 'no identity'}, not ${opts.expectedIdentity}`);
    },
  });
  const client = new (serviceClient('outpost.tap.v1.Tap'))(opts.address, creds, { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as TapClient;
  const call = client.observe({ limit: opts.filter.limit ?? 0, method: opts.filter.method ?? '', pathPrefix: opts.filter.pathPrefix ?? '', authority: opts.filter.authority ?? '' });
  let ended = false;
  const end = (err?: Error) => {
    if (ended) return;
    ended = true;
    client.close();
    opts.onEnd(err);
  };
  call.on('data', (m: TapEvent__Output) =>
    opts.onEvent({
      workload: opts.workload,
      direction: m.direction === 'outbound' ? 'outbound' : 'inbound',
      source: m.source,
      destination: m.destination,
      sourceIdentity: m.sourceIdentity,
      destinationIdentity: m.destinationIdentity,
      method: m.method,
      authority: m.authority,
      path: m.path,
      status: m.status,
      grpcStatus: m.grpcStatus ? Number(m.grpcStatus) : undefined,
      latencyMs: m.latencyMs,
      timestampMs: Number(m.timestampUnixMs),
      tls: m.tls,
      destinationLabels: m.destinationLabels ?? {},
    }),
  );
  call.on('error', (e: grpc.ServiceError) => end(e.code === grpc.status.CANCELLED ? undefined : new Error(e.details || e.message)));
  call.on('end', () => end());
  return {
    cancel: () => {
      if (ended) return;
      call.cancel();
      end();
    },
  };
}
