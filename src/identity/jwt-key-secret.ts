// The JWT-SVID signing key against Kubernetes: Secret outpost/outpost-identity-jwt-key (key
// jwt-signing.key, PKCS#8 PEM), so that a restarted identity pod (its data dir is an emptyDir)
// signs with the same key and tokens issued before stay valid. `outpost install` renders the Secret
// empty and lets only the identity ServiceAccount get and update it by name; the first identity to
// start fills it (an update with the Secret's resourceVersion: of two replicas racing, the loser
// reads the winner's key). Without the rendered Secret (admin credentials) it is created.
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { OutpostError } from '../core/errors.js';
import { makeKeepAliveApiClient } from '../core/kube-clients.js';
import { generateJwtKeyPem, jwtKeyFromPem, type JwtSigningKey } from './jwt-key.js';
import { createOutpostNamespace, TRUST_ROOTS_NAMESPACE } from './kube.js';

export const JWT_KEY_SECRET = 'outpost-identity-jwt-key';
export const JWT_KEY_SECRET_KEY = 'jwt-signing.key';
const where = `Secret ${TRUST_ROOTS_NAMESPACE}/${JWT_KEY_SECRET}`;

const statusCode = (e: unknown): number | undefined => (e as { code?: number }).code;

export async function loadOrCreateJwtKeyInSecret(kc: KubeConfig): Promise<{ key: JwtSigningKey; generated: boolean }> {
  const core = makeKeepAliveApiClient(kc, CoreV1Api);
  for (let attempt = 0; attempt < 3; attempt++) {
    let secret: V1Secret | undefined;
    try {
      secret = await core.readNamespacedSecret({ name: JWT_KEY_SECRET, namespace: TRUST_ROOTS_NAMESPACE });
    } catch (e) {
      if (statusCode(e) !== 404) throw apiError('read', e);
    }
    const stored = secret?.data?.[JWT_KEY_SECRET_KEY];
    if (stored) return { key: parseStored(stored), generated: false };
    const pem = generateJwtKeyPem();
    const data = { [JWT_KEY_SECRET_KEY]: Buffer.from(pem).toString('base64') };
    try {
      if (secret) {
        await core.replaceNamespacedSecret({ name: JWT_KEY_SECRET, namespace: TRUST_ROOTS_NAMESPACE, body: { ...secret, data } });
      } else {
        const metadata = { name: JWT_KEY_SECRET, namespace: TRUST_ROOTS_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'outpost', 'app.kubernetes.io/name': 'outpost-identity' } };
        const create = () => core.createNamespacedSecret({ namespace: TRUST_ROOTS_NAMESPACE, body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata, data } });
        await create().catch(async (e: unknown) => {
          if (statusCode(e) !== 404) throw e; // 404: no namespace outpost yet
          await createOutpostNamespace(core);
          await create();
        });
      }
      return { key: jwtKeyFromPem(pem), generated: true };
    } catch (e) {
      // Another identity replica wrote it first: use its key.
      if (statusCode(e) === 409) continue;
      if (!secret && statusCode(e) === 403) {
        throw new OutpostError('CONFIG_INVALID', `${where} is missing and identity may not create it; apply \`outpost install\` (it renders the Secret and lets identity fill it)`, { cause: e });
      }
      throw apiError('write', e);
    }
  }
  throw new OutpostError('API_UNREACHABLE', `${where}: kept changing while identity tried to store its JWT signing key`);
}

function parseStored(base64: string): JwtSigningKey {
  try {
    return jwtKeyFromPem(Buffer.from(base64, 'base64').toString('utf8'));
  } catch (e) {
    // Never replace a key silently: the tokens it signed would stop validating without a word.
    throw new OutpostError('CONFIG_INVALID', `${where}: ${JWT_KEY_SECRET_KEY} is not a PEM ECDSA P-256 private key (${(e as Error).message}); delete the key from the Secret to have a new one generated`, { cause: e });
  }
}

function apiError(what: string, e: unknown): OutpostError {
  const code = statusCode(e);
  return new OutpostError('API_UNREACHABLE', `cannot ${what} ${where}${code ? ` (HTTP ${code})` : ''}: ${(e as Error).message ?? String(e)}`, { cause: e });
}
