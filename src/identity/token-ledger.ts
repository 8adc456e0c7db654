// Bootstrap tokens are single-use (docs/adr/0018): the first enrolment with a token records its id
// (the JWT's jti) as a ConfigMap in namespace `outpost`, created atomically, so a second enrolment with
// the same token — another host, another key, another workload — is refused. Retrying the very same
// enrolment (same workload, same key: a lost response) is not a second use. Records are deleted
// once the token has expired (it cannot pass TokenReview any more).
import { createHash } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { makeKeepAliveApiClient } from '../core/kube-clients.js';
import { unavailable } from './kube.js';
import { Refusal } from './refusal.js';

export const TOKEN_LEDGER_NAMESPACE = 'outpost';
export const USED_TOKEN_LABEL = 'outpost.io/used-bootstrap-token';
const A = { workload: 'outpost.io/workload', key: 'outpost.io/key-sha256', usedAt: 'outpost.io/used-at', expiresAt: 'outpost.io/token-expires-at' };
/** Records outlive their token by this much (TokenReview allows 60 s of clock skew). */
const KEEP_AFTER_EXPIRY_MS = 5 * 60_000;
const SWEEP_EVERY_MS = 10 * 60_000;

export interface TokenUse {
  /** The token's jti (or a hash of the token when it has none). */
  tokenId: string;
  /** What one use covers: the token id, plus the member for a group's token (each VM enrols once). */
  scope: string;
  /** "namespace/name" of the enrolled workload. */
  workload: string;
  /** The certified key (DER SubjectPublicKeyInfo). */
  spki: Buffer;
  /** ms since the epoch. */
  expiresAt: number;
}

export interface TokenLedger {
  /** Records the use; throws a `token_used` Refusal when the token was used before for something else. */
  claim(use: TokenUse): Promise<void>;
  /** Deletes records of expired tokens. */
  sweep(): Promise<number>;
  stop(): void;
}

/** The id of a token TokenReview accepted: its `jti` claim, else a hash of the whole token. */
export function tokenIdOf(token: string): { tokenId: string; expiresAt?: number } {
  let payload: { jti?: unknown; exp?: unknown } = {};
  try {
    payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as typeof payload;
  } catch {
    // Not a JWT we can read: the hash below still identifies it.
  }
  const tokenId = typeof payload.jti === 'string' && payload.jti ? payload.jti : `sha256:${createHash('sha256').update(token).digest('hex')}`;
  return { tokenId, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined };
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** A DNS-1123 name per scope (the scope itself may be long and hold slashes). */
export const recordName = (scope: string) => `bootstrap-token-${sha256(scope).slice(0, 40)}`;

export function createTokenLedger(kc: KubeConfig, opts: { clock: Clock; log: Logger }): TokenLedger {
  const core = makeKeepAliveApiClient(kc, CoreV1Api);
  const code = (e: unknown) => (e as { code?: number }).code;
  const sweep = async () => {
    const now = opts.clock.now();
    const list = await core.listNamespacedConfigMap({ namespace: TOKEN_LEDGER_NAMESPACE, labelSelector: `${USED_TOKEN_LABEL}=true` });
    let deleted = 0;
    for (const s of list.items) {
      const exp = Date.parse(s.metadata?.annotations?.[A.expiresAt] ?? '');
      if (!Number.isFinite(exp) || exp + KEEP_AFTER_EXPIRY_MS > now) continue;
      await core.deleteNamespacedConfigMap({ namespace: TOKEN_LEDGER_NAMESPACE, name: s.metadata!.name! }).then(
        () => deleted++,
        (e) => code(e) === 404 || opts.log.debug('could not delete a used-token record', { name: s.metadata?.name, error: e }),
      );
    }
    return deleted;
  };
  let timer: TimerHandle | undefined;
  const schedule = () => {
    timer = opts.clock.setTimeout(() => void sweep().catch((e) => opts.log.debug('used-token sweep failed', { error: e })).finally(schedule), SWEEP_EVERY_MS);
    timer.unref?.();
  };
  schedule();
  return {
    async claim(use) {
      const name = recordName(use.scope);
      const key = sha256(use.spki);
      const body: V1ConfigMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          namespace: TOKEN_LEDGER_NAMESPACE,
          labels: { [USED_TOKEN_LABEL]: 'true', 'app.kubernetes.io/part-of': 'outpost' },
          annotations: { [A.workload]: use.workload, [A.key]: key, [A.usedAt]: new Date(opts.clock.now()).toISOString(), [A.expiresAt]: new Date(use.expiresAt).toISOString() },
        },
      };
      try {
        await core.createNamespacedConfigMap({ namespace: TOKEN_LEDGER_NAMESPACE, body });
        return;
      } catch (e) {
        if (code(e) !== 409) throw unavailable('record the bootstrap token as used', e);
      }
      let existing: V1ConfigMap;
      try {
        existing = await core.readNamespacedConfigMap({ namespace: TOKEN_LEDGER_NAMESPACE, name });
      } catch (e) {
        throw unavailable('read the record of the bootstrap token', e);
      }
      const a = existing.metadata?.annotations ?? {};
      // The same enrolment again (its answer was lost): the same workload with the same key.
      if (a[A.workload] === use.workload && a[A.key] === key) return;
      const [ns, wl] = use.workload.split('/');
      throw new Refusal(
        'token_used',
        `this bootstrap token was already used at ${a[A.usedAt] ?? 'an earlier enrolment'}; a token enrols once — a proxy that holds its certificate renews without one, else get a new token: outpost workload onboard ${wl} -n ${ns} --renew`,
        {},
        `token ${use.tokenId} first enrolled ${a[A.workload] ?? '?'} (key ${a[A.key]?.slice(0, 12) ?? '?'})`,
      );
    },
    sweep,
    stop: () => {
      if (timer) opts.clock.clearTimeout(timer);
    },
  };
}
