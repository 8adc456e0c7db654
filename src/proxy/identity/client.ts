// The proxy's identity: obtains a certificate with a bootstrap token (once), keeps key and
// certificate in a state dir, and renews over mTLS at 70 % of the lifetime (like linkerd2-proxy),
// retrying with jittered exponential backoff. Implements IdentitySource for the data path.
import { X509Certificate } from 'node:crypto';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { isOutpostError, OutpostError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { splitPemBundle } from '../../core/pki.js';
import type { Credentials, IdentitySource } from '../types.js';
import { certifyOnce, CertifyCallError, type CertifyCallResult } from '../../api/identity/certify-call.js';
import { createCsr, generateWorkloadKey } from '../../core/identity/csr.js';
import { inspectCertificate, loadBinding, loadPersisted, loadRegisteredWorkload, persistBinding, persistCertificate, persistKey, persistRegisteredWorkload, statePaths, type CertificateFacts } from './state.js';

export const REFRESH_AT_FRACTION = 0.7;
const BACKDATING_MAX_MS = 60_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

/** Auto-registration (docs/adr/0010): no workload name; the identity service registers one for the group and address. */
export interface GroupMembership {
  namespace: string;
  group: string;
  /** This VM's address (IPv4 or IPv6), the member's workloadIP. */
  address: string;
}

export interface IdentityClientOptions {
  /** host:port of the identity service. */
  identityAddr: string;
  trustAnchorsPem: string;
  workload: { namespace: string; name: string } | GroupMembership;
  /** Where proxy.key and proxy.crt live. Without it nothing is persisted. */
  stateDir?: string;
  /** Reads the bootstrap token (e.g. from a file) when one is needed; undefined when there is none. */
  token?: () => string | undefined;
  /** Known names; when absent they are learnt from the identity service on first certification. */
  names?: { identity: string; serverName: string };
  clock?: Clock;
  log?: Logger;
  /** In [0, 1): jitter source, injectable for tests. */
  random?: () => number;
  /** Called once a bootstrap token got a certificate: the token is not needed any more (delete it). */
  onTokenUsed?: (token: string) => void;
  /** Called by close() (the state dir's lock is released there). */
  onClose?: () => void;
  /** Told the outcome of every background renewal (for metrics and tests). Must not block. */
  onRenewal?: (outcome: { ok: true } | { ok: false; error: Error; retryInMs: number }) => void;
}

function toPem(der: Buffer): string {
  return new X509Certificate(der).toString();
}

export class WorkloadIdentityClient implements IdentitySource {
  private creds?: Credentials;
  private keyPem?: string;
  private readonly listeners = new Set<(c: Credentials) => void>();
  private timer?: TimerHandle;
  private failures = 0;
  private closed = false;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** "namespace/name"; for a group member, known once registered (or from the state dir). */
  private ref: string;
  /** "namespace/group:GROUP@ADDRESS" for a group member. */
  private readonly groupRef?: string;

  private readonly opts: IdentityClientOptions;

  constructor(opts: IdentityClientOptions) {
    // Normalized bundle: one PEM block per anchor, each ending in a newline.
    this.opts = { ...opts, trustAnchorsPem: splitPemBundle(opts.trustAnchorsPem).join('') };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    const w = opts.workload;
    if ('group' in w) {
      this.groupRef = `${w.namespace}/group:${w.group}@${w.address}`;
      const known = opts.stateDir ? loadRegisteredWorkload(opts.stateDir) : undefined;
      this.ref = known && known.namespace === w.namespace && known.group === w.group && known.address === w.address ? `${known.namespace}/${known.name}` : '';
    } else {
      this.ref = `${w.namespace}/${w.name}`;
    }
  }

  /** The workload this proxy is (for a group member: the name the identity service registered), once known. */
  workload(): { namespace: string; name: string } | undefined {
    if (!this.ref) return undefined;
    const [namespace, name] = this.ref.split('/');
    return { namespace, name };
  }

  /** How to name this workload in messages. */
  private get what(): string {
    return this.ref || `a new member of WorkloadGroup ${this.groupRef!.replace(/\/group:/, '/').replace(/@.*/, '')}`;
  }

  private renewHint(): string {
    const w = this.opts.workload;
    if ('group' in w) return `create a new token for the ServiceAccount of WorkloadGroup ${w.namespace}/${w.group} (kubectl create token SA -n ${w.namespace}) and put it at the token path`;
    return `run \`outpost workload onboard ${w.name} -n ${w.namespace} --renew\``;
  }

  /** Remembers the registered name (state dir), so a restart reclaims the same entry. */
  private learnName(registered: string | undefined): void {
    const w = this.opts.workload;
    if (!registered || !('group' in w) || registered === this.ref) return;
    this.ref = registered;
    const [namespace, name] = registered.split('/');
    if (this.opts.stateDir) persistRegisteredWorkload(this.opts.stateDir, { namespace, name, group: w.group, address: w.address });
    this.log.info('registered as a member of the workload group', { workload: registered, group: w.group, address: w.address });
  }

  current(): Credentials | undefined {
    return this.creds;
  }

  subscribe(listener: (c: Credentials) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (!this.closed) this.opts.onClose?.();
    this.closed = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.listeners.clear();
  }

  /** Resolves once credentials are usable: a still-valid persisted certificate, or a new one from the token. */
  async start(): Promise<Credentials> {
    this.refuseAnotherWorkloadsState();
    const persisted = this.opts.stateDir ? loadPersisted(this.opts.stateDir) : {};
    this.keyPem = persisted.keyPem;
    let expiredAt: number | undefined;
    if (persisted.keyPem && persisted.certPem) {
      try {
        const facts = inspectCertificate(persisted.keyPem, persisted.certPem, this.opts.trustAnchorsPem);
        const names = this.opts.names;
        if (names && (facts.identity !== names.identity || facts.serverName !== names.serverName)) {
          throw new Error(`is for ${facts.identity} (${facts.serverName}), not for ${names.identity} (${names.serverName})`);
        }
        if (facts.notAfter > this.clock.now()) {
          const [leaf, ...chain] = splitPemBundle(persisted.certPem);
          this.install({ ...facts, certPem: leaf, chainPem: chain.join('') }, false);
          if (this.groupRef) {
            this.log.info('using the persisted certificate', { identity: facts.identity, notAfter: new Date(facts.notAfter).toISOString() });
            return await this.reclaimOrRegister();
          }
          if (!loadBinding(this.opts.stateDir!)) return await this.proveUnboundState(facts);
          this.log.info('using the persisted certificate', { identity: facts.identity, notAfter: new Date(facts.notAfter).toISOString() });
          return this.creds!;
        }
        expiredAt = facts.notAfter;
      } catch (e) {
        if (e instanceof OutpostError) throw e;
        this.log.warn('ignoring the persisted certificate', { file: statePaths(this.opts.stateDir!).cert, error: e });
      }
    }
    const token = this.opts.token?.()?.trim();
    if (!token) {
      const renew = this.renewHint();
      if (expiredAt !== undefined) {
        throw new OutpostError(
          'CERTIFICATE_EXPIRED',
          `the persisted certificate of ${this.what} expired at ${new Date(expiredAt).toISOString()} and there is no usable bootstrap token; ${renew}`,
          { hint: renew },
        );
      }
      throw new OutpostError('IDENTITY_REFUSED', `${this.what} has no certificate${this.opts.stateDir ? ` in ${this.opts.stateDir}` : ''} and no bootstrap token; ${renew}`, { hint: renew });
    }
    try {
      return await this.bootstrap(token);
    } catch (e) {
      // A rejected one-time token is the common way to end up here: say how to get a new one.
      if (isOutpostError(e) && e.code === 'IDENTITY_REFUSED' && /token was rejected/.test(e.message)) {
        const renew = this.renewHint();
        const what = expiredAt !== undefined ? `the persisted certificate of ${this.what} expired at ${new Date(expiredAt).toISOString()} and the bootstrap token is no longer usable` : `the bootstrap token of ${this.what} is no longer usable`;
        throw new OutpostError(expiredAt !== undefined ? 'CERTIFICATE_EXPIRED' : 'IDENTITY_REFUSED', `${what} (${e.message.replace(/^the identity service refused: /, '')}); ${renew}`, { hint: renew });
      }
      throw e;
    }
  }

  /** This workload as the state dir's binding names it: "namespace/name", or the group reference for a group member. */
  private get bindingKey(): string {
    return this.groupRef ?? this.ref;
  }

  /** The state dir holds another workload's credentials: never present them, never overwrite them. */
  private refuseAnotherWorkloadsState(): void {
    const dir = this.opts.stateDir;
    const b = dir ? loadBinding(dir) : undefined;
    if (!dir || !b || b.workload === this.bindingKey) return;
    const hint = `give this proxy its own identity.dir, or remove ${dir} to enrol ${this.what} there with a new bootstrap token`;
    throw new OutpostError('CONFIG_INVALID', `identity.dir ${dir} holds the key and certificate of ${b.workload} (${b.identity}), not of ${this.what}: a proxy never presents another workload's identity; ${hint}`, { field: 'identity.dir', hint });
  }

  /**
   * Credentials persisted before bindings were recorded: used only once a renewal as this workload
   * succeeds (the identity service checks the certificate is this workload's), then bound.
   */
  private async proveUnboundState(facts: CertificateFacts): Promise<Credentials> {
    const dir = this.opts.stateDir!;
    this.log.warn('the persisted certificate carries no record of its workload; renewing it as this workload before use', { identity: facts.identity, workload: this.ref, dir });
    try {
      return await this.renewAs(this.ref);
    } catch (e) {
      this.creds = undefined;
      if (this.timer) this.clock.clearTimeout(this.timer);
      const why = e instanceof CertifyCallError ? e.message : (e as Error).message;
      const hint = `remove ${dir} and enrol ${this.what} with a new bootstrap token (${this.renewHint()})`;
      throw new OutpostError('IDENTITY_REFUSED', `the certificate in ${dir} (${facts.identity}) is not known to belong to ${this.what}, and renewing it as ${this.what} failed: ${why}; ${hint}`, { hint });
    }
  }

  private async bootstrap(token: string): Promise<Credentials> {
    if (!this.keyPem) {
      this.keyPem = generateWorkloadKey();
      if (this.opts.stateDir) persistKey(this.opts.stateDir, this.keyPem);
    }
    let names = this.opts.names ?? (this.creds ? { identity: this.creds.identity, serverName: this.creds.serverName } : undefined);
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await certifyOnce(
          { addr: this.opts.identityAddr, trustAnchorsPem: this.opts.trustAnchorsPem },
          // A group member always asks by group and address: registering again is reclaiming.
          { identity: names?.identity ?? '', token, csr: await createCsr(this.keyPem, names), workload: this.groupRef ?? this.ref },
        );
        this.learnName(res.registered);
        const creds = this.accept(res, 'bootstrap');
        this.opts.onTokenUsed?.(token);
        return creds;
      } catch (e) {
        // The service tells an entitled caller its names; ask again once with them.
        if (e instanceof CertifyCallError && e.expected && attempt === 0 && e.reason === 'identity_mismatch') {
          this.learnName(e.registered);
          names = e.expected;
          continue;
        }
        throw asOutpostError(e);
      }
    }
  }

  /** Renews now over mTLS with the current certificate (also used by the refresh timer). */
  async renew(): Promise<Credentials> {
    const c = this.creds;
    if (!c || !this.keyPem) throw new OutpostError('IDENTITY_REFUSED', `${this.what} has no certificate to renew`);
    if (c.notAfter <= this.clock.now()) {
      const token = this.opts.token?.()?.trim();
      if (token) return this.bootstrap(token);
    }
    try {
      return await this.renewAs(this.ref || this.groupRef!);
    } catch (e) {
      // A member removed while its VM was away registers again with its certificate.
      if (this.groupRef && this.ref && e instanceof CertifyCallError && e.reason === 'workload_deleted') {
        try {
          return await this.renewAs(this.groupRef);
        } catch (again) {
          throw asOutpostError(again);
        }
      }
      throw asOutpostError(e);
    }
  }

  private async renewAs(workload: string): Promise<Credentials> {
    const c = this.creds!;
    const res = await certifyOnce(
      { addr: this.opts.identityAddr, trustAnchorsPem: this.opts.trustAnchorsPem, clientCertificate: { keyPem: this.keyPem!, chainPem: c.certPem + c.chainPem } },
      { identity: c.identity, csr: await createCsr(this.keyPem!, c), workload },
    );
    this.learnName(res.registered);
    return this.accept(res, 'renewal');
  }

  /**
   * For a group member: makes sure its entry exists again (e.g. the health API answered NOT_FOUND
   * because the entry was removed while the VM was unreachable), with the current certificate.
   */
  async reclaim(): Promise<{ namespace: string; name: string }> {
    if (!this.groupRef) throw new OutpostError('INVALID_ARGUMENT', `${this.ref} is not an auto-registered workload; there is nothing to reclaim`);
    if (!this.creds) throw new OutpostError('IDENTITY_REFUSED', `${this.what} has no certificate yet; call start() first`);
    try {
      await this.renewAs(this.groupRef);
    } catch (e) {
      throw asOutpostError(e);
    }
    return this.workload()!;
  }

  /** reclaimEntry, or when the certificate no longer registers us (group rebound, template changed) the token if there is one. */
  private async reclaimOrRegister(): Promise<Credentials> {
    try {
      await this.reclaimEntry();
      return this.creds!;
    } catch (e) {
      const token = this.opts.token?.()?.trim();
      if (!token) throw e;
      this.log.warn('the persisted certificate could not reclaim the workload entry; registering with the token', { error: e });
      return this.bootstrap(token);
    }
  }

  /**
   * A restarted group member with a valid certificate asks by group and address once, so its entry
   * exists again if it was removed meanwhile (no token needed). When the service is unreachable the
   * persisted certificate and name are used as they are.
   */
  private async reclaimEntry(): Promise<void> {
    try {
      await this.renewAs(this.groupRef!);
    } catch (e) {
      if (this.ref && e instanceof CertifyCallError && e.unreachable) {
        this.log.warn('identity service unreachable; using the persisted certificate and workload name', { workload: this.ref, error: e });
        return;
      }
      throw asOutpostError(e);
    }
  }

  private accept(res: CertifyCallResult, kind: string): Credentials {
    const certPem = toPem(res.leafDer);
    const chainPem = res.intermediatesDer.map(toPem).join('');
    let facts;
    try {
      facts = inspectCertificate(this.keyPem!, certPem + chainPem, this.opts.trustAnchorsPem);
    } catch (e) {
      throw new OutpostError('IDENTITY_REFUSED', `the identity service returned an unusable certificate: it ${(e as Error).message}`);
    }
    if (this.opts.stateDir) {
      persistCertificate(this.opts.stateDir, { certPem, chainPem });
      persistBinding(this.opts.stateDir, { workload: this.bindingKey, identity: facts.identity, serverName: facts.serverName });
    }
    this.install({ ...facts, certPem, chainPem }, true);
    this.log.info(`certificate obtained (${kind})`, { identity: facts.identity, notAfter: new Date(facts.notAfter).toISOString() });
    return this.creds!;
  }

  private install(c: { identity: string; serverName: string; notBefore: number; notAfter: number; certPem: string; chainPem: string }, notify: boolean): void {
    this.creds = { identity: c.identity, serverName: c.serverName, certPem: c.certPem, keyPem: this.keyPem!, chainPem: c.chainPem, trustAnchorsPem: this.opts.trustAnchorsPem, notAfter: c.notAfter };
    this.failures = 0;
    // A certificate just obtained, backdated by at most a minute (the identity service allows 20 s of
    // clock skew), counts its lifetime from now: from notBefore, a short lifetime would be due at once.
    const now = this.clock.now();
    const from = notify && now > c.notBefore && now - c.notBefore <= BACKDATING_MAX_MS && now < c.notAfter ? now : c.notBefore;
    this.schedule(from + (c.notAfter - from) * REFRESH_AT_FRACTION - now);
    if (notify) for (const l of this.listeners) l(this.creds);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void this.refresh(), Math.max(0, delayMs));
    this.timer.unref?.();
  }

  private async refresh(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    try {
      await this.renew();
      this.opts.onRenewal?.({ ok: true });
    } catch (e) {
      this.failures++;
      const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
      const delay = exp / 2 + (this.opts.random ?? Math.random)() * (exp / 2);
      const left = (this.creds?.notAfter ?? 0) - this.clock.now();
      this.log.warn('certificate renewal failed; retrying', { attempt: this.failures, retryInMs: Math.round(delay), expiresInMs: left, error: e });
      this.schedule(delay);
      this.opts.onRenewal?.({ ok: false, error: e as Error, retryInMs: delay });
    }
  }
}

function asOutpostError(e: unknown): OutpostError {
  if (e instanceof OutpostError) return e;
  if (e instanceof CertifyCallError) {
    return new OutpostError(e.unreachable ? 'API_UNREACHABLE' : 'IDENTITY_REFUSED', e.unreachable ? e.message : `the identity service refused: ${e.message}`);
  }
  return new OutpostError('IDENTITY_REFUSED', (e as Error).message ?? String(e));
}
