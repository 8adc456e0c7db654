// The embedded Kubernetes-compatible API server. Placeholder until the HTTP layer lands.
import { OutpostError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Store } from '../store/types.js';

export interface ApiServerOptions {
  store: Store;
  host: string;
  port: number; // 0 = pick a free port
  tls: { certPem: string; keyPem: string };
  /** Bearer token of the admin user (system:admin, all rights). */
  adminToken: string;
  /** ES256 private key (PEM) that signs ServiceAccount tokens; its public key verifies them. */
  serviceAccountKeyPem: string;
  /** Issuer claim of ServiceAccount tokens. */
  issuer?: string;
  log: Logger;
}

export interface RunningApiServer {
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(_opts: ApiServerOptions): Promise<RunningApiServer> {
  throw new OutpostError('NOT_IMPLEMENTED', 'the API server is not built yet');
}
