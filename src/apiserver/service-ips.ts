// Cluster IPs for Services from one range (`outpost up --service-cidr`, default 10.96.0.0/12):
// the lowest address no Service holds (nor a create still being written), so two Services never
// share one. The range's network address and its first address (kubernetes' own) are never given.
import { isIPv4 } from 'node:net';
import type { Store } from '../store/types.js';
import { OutpostError } from '../core/errors.js';
import { internalError } from './server/status.js';

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** Parses an IPv4 CIDR whose host part is zero; throws naming the flag and the reason. */
export function parseServiceCidr(cidr: string, field = '--service-cidr'): { base: number; size: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || !isIPv4(m[1])) throw new OutpostError('INVALID_ARGUMENT', `${field}: "${cidr}" is not an IPv4 CIDR like 10.96.0.0/12`);
  const bits = Number(m[2]);
  if (bits < 8 || bits > 29) throw new OutpostError('INVALID_ARGUMENT', `${field}: a /${bits} range is not allowed (from /8 to /29)`);
  const size = 2 ** (32 - bits);
  const base = toInt(m[1]);
  if (base % size !== 0) throw new OutpostError('INVALID_ARGUMENT', `${field}: "${cidr}" has host bits set (the range starts at ${toIp(base - (base % size))})`);
  return { base, size };
}

export class ServiceIpAllocator {
  private readonly base: number;
  private readonly size: number;
  private readonly pending = new Set<string>();

  constructor(
    private readonly store: Store,
    readonly cidr = DEFAULT_SERVICE_CIDR,
  ) {
    ({ base: this.base, size: this.size } = parseServiceCidr(cidr));
  }

  contains(ip: string): boolean {
    if (!isIPv4(ip)) return false;
    const n = toInt(ip);
    return n >= this.base && n < this.base + this.size;
  }

  /** Whether another Service (or a create in flight) holds `ip`. */
  inUse(ip: string): boolean {
    if (this.pending.has(ip)) return true;
    return this.store.list({ group: '', resource: 'services' }).items.some((svc) => {
      const spec = (svc.spec ?? {}) as { clusterIP?: string; clusterIPs?: string[] };
      return spec.clusterIP === ip || (spec.clusterIPs ?? []).includes(ip);
    });
  }

  /** Reserves a free address until `release` (call it once the Service is stored, or its create failed). */
  allocate(): { ip: string; release: () => void } {
    const used = new Set(this.pending);
    for (const svc of this.store.list({ group: '', resource: 'services' }).items) {
      const spec = (svc.spec ?? {}) as { clusterIP?: string; clusterIPs?: string[] };
      for (const ip of [spec.clusterIP, ...(spec.clusterIPs ?? [])]) if (ip) used.add(ip);
    }
    // Skip the network address and .1; the last address is kept too (a broadcast, for a routed range).
    for (let off = 2; off < this.size - 1; off++) {
      const ip = toIp(this.base + off);
      if (!used.has(ip)) {
        this.pending.add(ip);
        return { ip, release: () => this.pending.delete(ip) };
      }
    }
    throw internalError(`failed to allocate a serviceIP: the range ${this.cidr} is full (restart \`outpost up\` with a larger --service-cidr)`);
  }
}
