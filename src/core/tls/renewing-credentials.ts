// mTLS server credentials for a control-plane service whose certificate the identity component
// issues: re-issued at 70 % of its lifetime and whenever the trust anchors change, so `outpost up`
// can run for longer than one certificate (30 days) and follows a CA rotation.
import { X509Certificate } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { Clock, TimerHandle } from '../clock.js';
import type { IdentityAuthority, ServiceCertificate } from '../component.js';
import type { Logger } from '../log.js';
import { TlsMaterialProvider, type ServingMaterial } from './material-provider.js';

/** How often the trust anchors are compared (a renewal by age is scheduled exactly). */
export const ANCHOR_CHECK_MS = 60_000;

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
  let cert: ServiceCertificate & { notAfter: number; renewAt: number; anchors: string };
  const issue = async () => {
    const anchors = identity.trustAnchorsPem();
    const c = await identity.issueServiceCertificate(service);
    const notAfter = Date.parse(new X509Certificate(c.certPem).validTo);
    const now = opts.clock.now();
    cert = { ...c, notAfter, renewAt: now + (notAfter - now) * 0.7, anchors };
    provider.update(servingMaterial(c, anchors));
  };
  await issue();
  let timer: TimerHandle | undefined;
  let stopped = false;
  const check = () => {
    timer = undefined;
    if (stopped) return;
    const reason = identity.trustAnchorsPem() !== cert.anchors ? 'the trust anchors changed' : opts.clock.now() >= cert.renewAt ? 'it reached 70 % of its lifetime' : undefined;
    const next = () => {
      if (stopped) return;
      const every = opts.anchorCheckMs ?? ANCHOR_CHECK_MS;
      // Never a hot loop: a renewal that keeps failing is retried at most once a second (or every check).
      timer = opts.clock.setTimeout(check, Math.max(Math.min(1_000, every), Math.min(every, cert.renewAt - opts.clock.now())));
      timer.unref?.();
    };
    if (!reason) return next();
    issue().then(
      () => opts.log.info('re-issued the service certificate', { service, reason, notAfter: new Date(cert.notAfter).toISOString() }),
      (e) => opts.log.warn('could not re-issue the service certificate; serving the current one', { service, reason, error: (e as Error).message }),
    ).finally(next);
  };
  check();
  return {
    credentials: provider.serverCredentials(opts.requireClientCertificate ?? true),
    stop: () => {
      stopped = true;
      if (timer) opts.clock.clearTimeout(timer);
    },
  };
}
