// The credentials the proxy serves and connects with right now; rebuilt contexts are published to
// the inbound/tap servers and the outbound pools on every rotation (file reload or renewal).
import type { SecureContext } from 'node:tls';
import type { Credentials, IdentitySource } from '../types.js';
import { clientContext } from './identity.js';

export class TlsState {
  creds: Credentials | undefined;
  client: SecureContext | undefined;
  version = 0;
  private readonly listeners = new Set<(c: Credentials) => void>();
  private readonly unsubscribe: () => void;

  constructor(source: IdentitySource) {
    const c = source.current();
    if (c) this.apply(c);
    this.unsubscribe = source.subscribe((next) => this.apply(next));
  }

  ready(): boolean {
    return this.creds !== undefined;
  }

  onRotate(l: (c: Credentials) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  close(): void {
    this.unsubscribe();
  }

  private apply(c: Credentials): void {
    this.creds = c;
    this.client = clientContext(c);
    this.version++;
    for (const l of this.listeners) l(c);
  }
}
