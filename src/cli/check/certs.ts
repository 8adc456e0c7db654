// Certificate facts for the checks: validity windows and whether an issuer chains to an anchor.
import { X509Certificate } from 'node:crypto';
import { splitPemBundle } from '../../core/pki.js';

export const DAY_MS = 86_400_000;

export function parseBundle(pem: string): X509Certificate[] {
  return splitPemBundle(pem).map((p) => new X509Certificate(p));
}

export function validity(cert: X509Certificate, now = Date.now()): { expired: boolean; notYetValid: boolean; msLeft: number } {
  const to = new Date(cert.validTo).getTime();
  const from = new Date(cert.validFrom).getTime();
  return { expired: to <= now, notYetValid: from > now, msLeft: to - now };
}

export function humanDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= 2 * DAY_MS) return `${Math.round(abs / DAY_MS)} days`;
  if (abs >= 3_600_000) return `${Math.round(abs / 3_600_000)} hours`;
  return `${Math.round(abs / 60_000)} minutes`;
}

/** True when `cert` was signed by one of `anchors`. */
export function chainsTo(cert: X509Certificate, anchors: X509Certificate[]): boolean {
  return anchors.some((a) => cert.checkIssued(a) && cert.verify(a.publicKey));
}

/** Same set of certificates, whatever the order and whitespace. */
export function sameBundle(a: string, b: string): boolean {
  const fp = (pem: string) => parseBundle(pem).map((c) => c.fingerprint256).sort().join(',');
  return fp(a) === fp(b);
}
