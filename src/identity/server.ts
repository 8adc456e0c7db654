// The identity gRPC service over TLS. The server asks for (but does not require) a client
// certificate: a bootstrap caller has none and sends a token; a renewing caller presents its current
// certificate, which TLS verifies against the trust anchors (grpc-js then exposes it to the handler).
import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { TlsMaterialProvider, type ServingMaterial } from '../core/tls/material-provider.js';
import { peerIp } from '../core/peer-address.js';
import type { Authority } from './authority.js';
import { isGroupRef, REGISTERED_WORKLOAD_KEY } from './autoregister.js';
import type { Caller, CertifyInput, Entitlement } from './certify.js';
import type { EventRecorder } from './kube.js';
import type { IdentityMetrics } from './metrics.js';
import type { CertifyRequest__Output, CertifyResponse } from '../api/gen/identity.js';
import { serviceDefinition } from '../api/load.js';
import type { RateLimiter } from '../core/rate-limit.js';
import { Refusal } from './refusal.js';
import { tokenIdOf, type TokenLedger } from './token-ledger.js';
import { hostPort } from '../core/host-port.js';

export interface IdentityServerOptions {
  host: string;
  port: number;
  authority: () => Authority;
  /** Decides a request (authorizeCertify with the lookups of choice). */
  authorize: (input: CertifyInput) => Promise<Entitlement>;
  lifetimeMs: number;
  rateLimiter: RateLimiter;
  metrics: IdentityMetrics;
  events?: EventRecorder;
  /** Records bootstrap tokens as used (docs/adr/0018); without it tokens stay reusable until they expire (tests). */
  tokens?: TokenLedger;
  /** The JWT-SVID calls (jwt-service.ts); without them they answer Unimplemented (tests). */
  jwt?: grpc.UntypedServiceImplementation;
  clock: Clock;
  log: Logger;
}


export interface RunningIdentityServer {
  port: number;
  /** Swaps the serving certificate and the trust anchors client certificates are checked against. */
  setServingMaterial(m: ServingMaterial): void;
  close(): Promise<void>;
}

/** The names in a verified peer certificate, or undefined when it is expired by our clock. */
export function peerCertificateNames(cert: Pick<PeerCertificate, 'subjectaltname' | 'valid_to' | 'pubkey'>, now: number): Caller['certificate'] {
  if (Date.parse(cert.valid_to) <= now) return undefined;
  const sans = (cert.subjectaltname ?? '').split(', ');
  const uri = sans.find((s) => s.startsWith('URI:'))?.slice(4);
  const dns = sans.find((s) => s.startsWith('DNS:'))?.slice(4);
  return { identity: uri, serverName: dns, publicKey: cert.pubkey };
}

export async function startIdentityServer(opts: IdentityServerOptions, initial: ServingMaterial): Promise<RunningIdentityServer> {
  const provider = new TlsMaterialProvider();
  provider.update(initial);
  const creds = provider.serverCredentials(false); // bootstrap callers present a token, not a certificate
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024, 'grpc.enable_channelz': 0 });

  const certify: grpc.handleUnaryCall<CertifyRequest__Output, CertifyResponse> = (call, callback) => {
    const ip = peerIp(call.getPeer()) ?? call.getPeer();
    const refuse = (r: Refusal) => {
      // A caller that does not know its names yet asks with none and learns them from the refusal.
      opts.metrics.refused(r.reason === 'identity_mismatch' && !call.request.identity ? 'identity_not_requested' : r.reason);
      // Rate-limited callers are not logged one by one (the metric counts them): no log flood.
      if (r.reason !== 'rate_limited') opts.log.info('certify refused', { workload: call.request.workload, peer: ip, reason: r.reason, detail: r.message, ...(r.internal ? { internal: r.internal } : {}) });
      const md = new grpc.Metadata();
      md.set('outpost-refusal-reason', r.reason);
      for (const [k, v] of Object.entries(r.details)) md.set(k, v);
      callback({ code: r.grpcStatus, details: r.message, metadata: md });
    };
    if (!opts.rateLimiter.take(ip)) {
      refuse(new Refusal('rate_limited', `too many certify requests from ${ip}; slow down and retry with backoff`));
      return;
    }
    const req = call.request;
    const token = req.token?.length ? req.token.toString('utf8').trim() : undefined;
    let certificate: Caller['certificate'];
    if (!token) {
      const peerCert = call.getAuthContext?.()?.sslPeerCertificate;
      if (peerCert?.raw) certificate = peerCertificateNames(peerCert, opts.clock.now());
    }
    opts
      .authorize({ identity: req.identity, workload: req.workload, csr: req.certificateSigningRequest ?? Buffer.alloc(0), caller: { token, certificate } })
      .then(async (ent) => {
        if (ent.kind === 'bootstrap' && !ent.reusableToken && token && opts.tokens) {
          // Single-use (docs/adr/0018): a group's token enrols each member once, any other token one workload.
          const { tokenId, expiresAt } = tokenIdOf(token);
          const workload = `${ent.workload.namespace}/${ent.workload.name}`;
          await opts.tokens.claim({ tokenId, scope: isGroupRef(req.workload) ? `${tokenId}#${workload}` : tokenId, workload, spki: ent.spki, expiresAt: expiresAt ?? opts.clock.now() + 48 * 3_600_000 });
        }
        if (ent.service) {
          const leaf = opts.authority().issueServiceLeaf(ent.service, ent.spki, { lifetimeMs: opts.lifetimeMs, now: opts.clock.now() });
          opts.metrics.issued('service');
          opts.log.info('control-plane service certificate issued', { service: ent.service, peer: ip, validUntil: new Date(leaf.notAfter).toISOString() });
          callback(null, { leafCertificate: leaf.leafDer, intermediateCertificates: leaf.chainDer, validUntilUnixMs: leaf.notAfter });
          return;
        }
        const issued = opts.authority().issueWorkloadLeaf({
          spki: ent.spki,
          identity: ent.workload.identity,
          serverName: ent.workload.serverName,
          lifetimeMs: opts.lifetimeMs,
          now: opts.clock.now(),
        });
        opts.metrics.issued(ent.kind);
        opts.events?.issued(ent.workload, ent.kind, issued.notAfter);
        opts.log.debug('certificate issued', { workload: req.workload, identity: ent.workload.identity, kind: ent.kind });
        // An auto-registering caller learns the name it got (docs/adr/0010), as refusals tell names.
        const trailer = new grpc.Metadata();
        if (isGroupRef(req.workload)) trailer.set(REGISTERED_WORKLOAD_KEY, `${ent.workload.namespace}/${ent.workload.name}`);
        callback(null, { leafCertificate: issued.leafDer, intermediateCertificates: issued.chainDer, validUntilUnixMs: issued.notAfter }, trailer);
      })
      .catch((e: unknown) => {
        if (e instanceof Refusal) return refuse(e);
        opts.metrics.refused('internal');
        opts.log.error('certify failed', { workload: req.workload, error: e });
        callback({ code: grpc.status.INTERNAL, details: 'internal error in the identity service; see its log' });
      });
  };

  server.addService(serviceDefinition('outpost.identity.v1.Identity'), { certify, ...opts.jwt });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(hostPort(opts.host, opts.port), creds, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    setServingMaterial: (m) => provider.update(m),
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
