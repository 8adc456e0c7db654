// The control plane's side of revocation (docs/adr/0009): a client certificate whose DNS name is on
// the deny list is refused by every control-plane gRPC service (destination, policy, revocations,
// health), as peers refuse it. One guard, installed as a server interceptor, asked by health too.
import * as grpc from '@grpc/grpc-js';
import { dnsNamesOf, type RevocationEntry } from '../workloads/revocation.js';

/** Where the deny list comes from (the RevocationFeed informer of ConfigMap outpost/outpost-revocations). */
export interface DenyList {
  /** The current entries; a new array whenever the list changes. */
  current(): readonly RevocationEntry[];
}

export class RevokedPeerGuard {
  private seen?: readonly RevocationEntry[];
  private byServerName = new Map<string, RevocationEntry>();

  constructor(private readonly list: DenyList) {}

  /** The entry that revokes this certificate (Node's peer-certificate form), if any. */
  revocationOf(cert: { subjectaltname?: string } | undefined): RevocationEntry | undefined {
    if (!cert) return undefined;
    const entries = this.list.current();
    if (entries !== this.seen) {
      this.seen = entries;
      this.byServerName = new Map(entries.map((e) => [e.serverName.toLowerCase(), e]));
    }
    if (this.byServerName.size === 0) return undefined;
    for (const name of dnsNamesOf(cert.subjectaltname)) {
      const e = this.byServerName.get(name);
      if (e) return e;
    }
    return undefined;
  }

  /** The refusal a revoked caller gets: it names only the caller's own workload. */
  static message(e: RevocationEntry): string {
    return `the client certificate is revoked: ExternalWorkload ${e.namespace}/${e.workload} was revoked at ${e.revokedAt}; the control plane refuses it as peers do (outpost workload revoke --undo ${e.workload} -n ${e.namespace} to undo)`;
  }

  /**
   * A server interceptor refusing revoked callers with PERMISSION_DENIED before any handler runs.
   * `except` lists full method paths that decide for themselves (health tells a revoked proxy so).
   */
  interceptor(opts: { except?: string[]; onRefused?: (e: RevocationEntry, method: string) => void } = {}): grpc.ServerInterceptor {
    const except = new Set(opts.except ?? []);
    return (method, call) => {
      if (except.has(method.path)) return new grpc.ServerInterceptingCall(call);
      return new grpc.ServerInterceptingCall(call, {
        start: (next) => {
          next({
            onReceiveMetadata: (metadata, mdNext) => {
              const entry = this.revocationOf(call.getAuthContext()?.sslPeerCertificate);
              if (!entry) return mdNext(metadata);
              opts.onRefused?.(entry, method.path);
              call.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: RevokedPeerGuard.message(entry), metadata: new grpc.Metadata() });
            },
          });
        },
      });
    };
  }
}
