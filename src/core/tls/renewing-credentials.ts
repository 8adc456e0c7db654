// mTLS server credentials for a control-plane gRPC service whose certificate the identity
// component issues, kept renewed by service-certificate.ts (70 % of its lifetime, trust-anchor
// changes): new handshakes get the new certificate and anchors, open streams continue.
import type * as grpc from '@grpc/grpc-js';
import type { Clock } from '../clock.js';
import type { IdentityAuthority, ServiceCertificate } from '../component.js';
import type { Logger } from '../log.js';
import { TlsMaterialProvider, type ServingMaterial } from './material-provider.js';
import { renewServiceCertificate } from './service-certificate.js';

export interface RenewingCredentials {
  credentials: grpc.ServerCredentials;
  stop(): void;
}

function servingMaterial(c: ServiceCertificate, trustAnchorsPem: string): ServingMaterial {
  const chain = c.chainPem.includes(c.certPem.trim()) ? c.chainPem : `${c.certPem.trimEnd()}\n${c.chainPem}`;
  return { trustAnchorsPem, certChainPem: chain, keyPem: c.keyPem };
}

/** mTLS credentials for a certificate that is never re-issued (tests and tools). */
export function fixedServerCredentials(c: ServiceCertificate, trustAnchorsPem: string): grpc.ServerCredentials {
  const provider = new TlsMaterialProvider();
  provider.update(servingMaterial(c, trustAnchorsPem));
  return provider.serverCredentials(true);
}

export async function renewingServerCredentials(
  identity: IdentityAuthority,
  service: string,
  opts: { clock: Clock; log: Logger; requireClientCertificate?: boolean; anchorCheckMs?: number },
): Promise<RenewingCredentials> {
  const provider = new TlsMaterialProvider();
  const renewal = await renewServiceCertificate(identity, service, {
    clock: opts.clock,
    log: opts.log,
    anchorCheckMs: opts.anchorCheckMs,
    onRenewed: (c) => provider.update(servingMaterial(c, c.trustAnchorsPem)),
  });
  const first = renewal.current();
  provider.update(servingMaterial(first, first.trustAnchorsPem));
  return { credentials: provider.serverCredentials(opts.requireClientCertificate ?? true), stop: () => renewal.stop() };
}
