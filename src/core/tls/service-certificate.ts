// A control-plane service's own certificate, issued by the identity component and re-issued at 70 %
// of its lifetime and within a minute of a trust-anchor change (a CA rotation), so a service runs
// longer than one certificate (30 days). What serves it (gRPC credentials, an HTTPS server) is told.
import { X509Certificate } from 'node:crypto';
import type { Clock, TimerHandle } from '../clock.js';
import type { IdentityAuthority, ServiceCertificate } from '../component.js';
import type { Logger } from '../log.js';

/** How often the trust anchors are compared (a renewal by age is scheduled exactly). */
export const ANCHOR_CHECK_MS = 60_000;

/** A certificate and the trust anchors current when it was issued. */
export type IssuedCertificate = ServiceCertificate & { trustAnchorsPem: string };

export interface ServiceCertificateRenewal {
  /** The certificate served now. */
  current(): IssuedCertificate;
  stop(): void;
}

export interface RenewalOptions {
  clock: Clock;
  log: Logger;
  anchorCheckMs?: number;
  /** Called with every re-issued certificate (not the first, which `current()` returns). */
  onRenewed(c: IssuedCertificate): void;
}

/** Issues `service`'s certificate now (rejects if it cannot) and keeps it renewed until stop(). */
export async function renewServiceCertificate(identity: IdentityAuthority, service: string, opts: RenewalOptions): Promise<ServiceCertificateRenewal> {
  let cert: IssuedCertificate & { notAfter: number; renewAt: number };
  const issue = async () => {
    const trustAnchorsPem = identity.trustAnchorsPem();
    const c = await identity.issueServiceCertificate(service);
    const notAfter = Date.parse(new X509Certificate(c.certPem).validTo);
    const now = opts.clock.now();
    cert = { ...c, trustAnchorsPem, notAfter, renewAt: now + (notAfter - now) * 0.7 };
  };
  await issue();
  let timer: TimerHandle | undefined;
  let stopped = false;
  const check = () => {
    timer = undefined;
    if (stopped) return;
    const reason = identity.trustAnchorsPem() !== cert.trustAnchorsPem ? 'the trust anchors changed' : opts.clock.now() >= cert.renewAt ? 'it reached 70 % of its lifetime' : undefined;
    const next = () => {
      if (stopped) return;
      const every = opts.anchorCheckMs ?? ANCHOR_CHECK_MS;
      // Never a hot loop: a renewal that keeps failing is retried at most once a second (or every check).
      timer = opts.clock.setTimeout(check, Math.max(Math.min(1_000, every), Math.min(every, cert.renewAt - opts.clock.now())));
      timer.unref?.();
    };
    if (!reason) return next();
    issue().then(
      () => {
        opts.log.info('re-issued the service certificate', { service, reason, notAfter: new Date(cert.notAfter).toISOString() });
        if (!stopped) opts.onRenewed(cert);
      },
      (e) => opts.log.warn('could not re-issue the service certificate; serving the current one', { service, reason, error: (e as Error).message }),
    ).finally(next);
  };
  check();
  return {
    current: () => cert,
    stop: () => {
      stopped = true;
      if (timer) opts.clock.clearTimeout(timer);
    },
  };
}
