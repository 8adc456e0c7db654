// The server side of the WorkloadHealth gRPC API (proto/outpost/health.proto) over mTLS: a proxy
// reports only for the workload its client certificate was issued to (its SPIFFE URI and its
// serverName, unique per workload, docs/adr/0016), never with a revoked certificate, and every
// report is acked with the heartbeat interval the control plane expects.
import type { WorkloadProxyStatus } from '../../kube/objects.js';
import * as grpc from '@grpc/grpc-js';
import { OutpostError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { ProbeOutcome } from './conditions.js';
import { reachableAddress } from './proxy-address.js';
import { peerIp } from '../../core/peer-address.js';
import type { RevokedPeerGuard } from '../../core/tls/revoked-peers.js';
import { dnsNamesOf } from '../../core/workloads/revocation.js';
import { uriSans } from '../../core/grpc/server.js';
import type { HealthAck, HealthReport__Output } from '../../api/gen/health.js';
import { serviceDefinition } from '../../api/load.js';

/** What the server needs to know about a workload named in a report. */
export interface ReportTarget {
  uid: string;
  key: string;
  identity: string;
  /** The workload's effective serverName: its certificate's DNS name. */
  serverName: string;
  heartbeatIntervalMs: number;
  /** JSON of the workload's effective probes (own, else its group template's). */
  probesJson: string;
  /** The workload's declared ports (spec.ports, with its group template's). */
  ports?: number[];
  /** Revoked (docs/adr/0009): every ack says so, and the proxy's reporter calls onRevoked. */
  revoked?: boolean;
}

/** What a report says about the proxy itself; mirrored into the workload's status.proxy. */
export type ProxyStatus = Omit<WorkloadProxyStatus, 'connected' | 'lastReportTime'> & { version: string };

export interface HealthServerOptions {
  host: string;
  port: number;
  /** mTLS server credentials (client certificates required): src/core/tls/renewing-credentials.ts. */
  credentials: grpc.ServerCredentials;
  log: Logger;
  /** The deny list (docs/adr/0009): a revoked certificate's reports are never applied. */
  revokedPeers?: RevokedPeerGuard;
  /** Looks up "namespace/name"; undefined when there is no such ExternalWorkload. */
  resolve(workload: string): ReportTarget | undefined;
  onReport(target: ReportTarget, report: { ready: boolean; probes: ProbeOutcome[]; proxy: ProxyStatus }): void;
  onStreamOpened(target: ReportTarget): void;
  onStreamClosed(target: ReportTarget): void;
}

export interface RunningHealthServer {
  port: number;
  stop(): Promise<void>;
}

function fail(call: grpc.ServerDuplexStream<HealthReport__Output, HealthAck>, code: grpc.status, details: string): void {
  call.emit('error', { code, details });
}

export async function startHealthServer(opts: HealthServerOptions): Promise<RunningHealthServer> {
  const server = new grpc.Server();
  server.addService(serviceDefinition('outpost.health.v1.WorkloadHealth'), {
    Report(call: grpc.ServerDuplexStream<HealthReport__Output, HealthAck>) {
      const peerCert = call.getAuthContext()?.sslPeerCertificate;
      const peerIds = uriSans(peerCert?.subjectaltname);
      const peerNames = dnsNamesOf(peerCert?.subjectaltname);
      let revokedLogged = false;
      const certificateNotAfter = peerCert?.valid_to ? new Date(peerCert.valid_to).toISOString() : undefined;
      let bound: ReportTarget | undefined;
      let probesSent: string | undefined;
      let done = false;
      const close = () => {
        if (done) return;
        done = true;
        if (bound) opts.onStreamClosed(bound);
      };
      call.on('data', (msg: HealthReport__Output) => {
        if (done) return;
        if (bound && msg.workload !== bound.key) return fail(call, grpc.status.INVALID_ARGUMENT, `this stream reports for ${bound.key}; open another stream for ${msg.workload}`);
        const target = opts.resolve(msg.workload);
        // A workload deleted while its proxy reports is revoked: the proxy should stop serving.
        if (!target && bound) return call.write({ heartbeatIntervalMs: bound.heartbeatIntervalMs, revoked: true, probesJson: '', ports: [] });
        if (!target) return fail(call, grpc.status.NOT_FOUND, `no ExternalWorkload ${msg.workload} (expected "namespace/name")`);
        if (bound && target.uid !== bound.uid) return fail(call, grpc.status.FAILED_PRECONDITION, `${msg.workload} was deleted and re-created; reconnect`);
        if (!peerIds.includes(target.identity) || !peerNames.includes(target.serverName.toLowerCase())) {
          // The caller learns nothing about the workload it is not: only its own certificate's names.
          opts.log.warn('health report refused: the certificate was issued to another workload', { workload: target.key, expected: `${target.identity} ${target.serverName}`, presented: `${peerIds.join(',') || '(no URI)'} ${peerNames.join(',') || '(no DNS)'}` });
          return fail(call, grpc.status.PERMISSION_DENIED, `the client certificate (${peerIds.join(',') || 'no SPIFFE id'}, ${peerNames.join(',') || 'no DNS name'}) was not issued to ${msg.workload}; a proxy reports only for its own workload`);
        }
        // A revoked workload's own proxy is told so (it stops serving); its report changes nothing.
        if (target.revoked || opts.revokedPeers?.revocationOf(peerCert)) {
          if (!revokedLogged) opts.log.info('health report from a revoked certificate ignored', { workload: target.key });
          revokedLogged = true;
          return call.write({ heartbeatIntervalMs: target.heartbeatIntervalMs, revoked: true, probesJson: '', ports: [] });
        }
        if (!bound) {
          bound = target;
          opts.onStreamOpened(target);
        }
        const from = peerIp(call.getPeer());
        const proxy: ProxyStatus = { version: msg.proxyVersion, adminAddress: reachableAddress(msg.adminAddress, from), tapAddress: reachableAddress(msg.tapAddress, from), inboundPort: msg.inboundPort || undefined, certificateNotAfter };
        opts.onReport(target, { ready: msg.ready, probes: (msg.probes ?? []).map((p) => ({ name: p.name, success: p.success, message: p.message })), proxy });
        const probesJson = target.probesJson === probesSent ? '' : target.probesJson;
        probesSent = target.probesJson;
        call.write({ heartbeatIntervalMs: target.heartbeatIntervalMs, revoked: false, probesJson, ports: target.ports ?? [] });
      });
      call.on('end', () => {
        close();
        call.end();
      });
      call.on('error', close);
      call.on('cancelled', close);
      call.on('close', close);
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    server.bindAsync(`${host}:${opts.port}`, opts.credentials, (err, p) =>
      err ? reject(new OutpostError('CONFIG_INVALID', `cannot listen on ${host}:${opts.port} for the workload health API: ${err.message}`, { field: 'health-port', cause: err })) : resolve(p),
    );
  });
  return {
    port,
    // Proxies' streams never end on their own: cancel them (the proxies reconnect elsewhere).
    stop: async () => server.forceShutdown(),
  };
}
