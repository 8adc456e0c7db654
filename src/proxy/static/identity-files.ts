// Identity from files (cert-manager, SPIRE, the benchmark harness): certificate, key and trust
// anchors are read at start, watched, and reloaded when they change; a half-written file is ignored.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, basename } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Credentials, IdentitySource } from '../types.js';
import { describeLeaf } from '../tls/identity.js';
import type { Logger } from '../../core/log.js';
import { OutpostError } from '../../core/errors.js';

export interface FileIdentityOptions {
  certFile: string;
  keyFile: string;
  trustAnchorsFile: string;
  /** Poll period as a fallback to file-system events (editors and atomic renames differ). */
  reloadIntervalMs: number;
  log: Logger;
}

export function readCredentialFiles(o: Pick<FileIdentityOptions, 'certFile' | 'keyFile' | 'trustAnchorsFile'>): Credentials {
  const certPem = readFileSync(o.certFile, 'utf8');
  const keyPem = readFileSync(o.keyFile, 'utf8');
  const trustAnchorsPem = readFileSync(o.trustAnchorsFile, 'utf8');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+-----END [A-Z ]*PRIVATE KEY-----/.test(keyPem)) throw new Error(`${o.keyFile}: no private key`);
  if (!trustAnchorsPem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${o.trustAnchorsFile}: no certificate`);
  const leaf = describeLeaf(certPem);
  return { identity: leaf.identity, serverName: leaf.serverName, certPem: leaf.leafPem, chainPem: leaf.chainPem, keyPem, trustAnchorsPem, notAfter: leaf.notAfter };
}

export class FileIdentitySource implements IdentitySource {
  private creds: Credentials;
  private readonly listeners = new Set<(c: Credentials) => void>();
  private readonly watchers: FSWatcher[] = [];
  private readonly poll: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;
  private lastRaw: string;

  constructor(private readonly o: FileIdentityOptions) {
    try {
      this.creds = readCredentialFiles(o);
    } catch (e) {
      throw new OutpostError('CONFIG_INVALID', `identity files: ${(e as Error).message}`, { field: 'identity.certFile' });
    }
    this.lastRaw = this.fingerprint();
    for (const dir of new Set([o.certFile, o.keyFile, o.trustAnchorsFile].map((f) => dirname(f)))) {
      const names = new Set([o.certFile, o.keyFile, o.trustAnchorsFile].filter((f) => dirname(f) === dir).map((f) => basename(f)));
      try {
        const w = watch(dir, (_ev, name) => {
          if (!name || names.has(String(name))) this.scheduleReload();
        });
        w.on('error', () => {});
        this.watchers.push(w);
      } catch {}
    }
    this.poll = setInterval(() => this.reloadIfChanged(), o.reloadIntervalMs);
    this.poll.unref();
  }

  current(): Credentials {
    return this.creds;
  }

  subscribe(listener: (c: Credentials) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    clearInterval(this.poll);
    if (this.pending) clearTimeout(this.pending);
    for (const w of this.watchers) w.close();
  }

  private fingerprint(): string {
    try {
      return readFileSync(this.o.certFile, 'utf8') + readFileSync(this.o.keyFile, 'utf8') + readFileSync(this.o.trustAnchorsFile, 'utf8');
    } catch {
      return this.lastRaw;
    }
  }

  private scheduleReload(): void {
    if (this.pending) return;
    // Cert and key are usually replaced one after the other: wait a moment so both are new.
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.reloadIfChanged();
    }, 50);
  }

  private reloadIfChanged(): void {
    const raw = this.fingerprint();
    if (raw === this.lastRaw) return;
    let next: Credentials;
    try {
      next = readCredentialFiles(this.o);
      // Refuse a key that does not match the certificate (mid-rotation); the next event retries.
      createKeyCheck(next);
    } catch (e) {
      this.o.log.warn('identity files not reloaded', { reason: (e as Error).message });
      return;
    }
    this.lastRaw = raw;
    this.creds = next;
    this.o.log.info('identity reloaded from files', { identity: next.identity, notAfter: new Date(next.notAfter).toISOString() });
    for (const l of this.listeners) l(next);
  }
}

function createKeyCheck(c: Credentials): void {
  createSecureContext({ cert: c.certPem, key: c.keyPem });
}
