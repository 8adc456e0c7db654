// The identity service's JWT-SVID signing key: ECDSA P-256, generated on first start next to the CA
// in DATA_DIR/pki (0600) and kept across restarts; its public half is the JWKS the control plane
// publishes (ConfigMap outpost/outpost-identity-trust-roots, key jwt-bundle.json).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { readIfExists, writePrivateFile } from '../core/files.js';
import { jwkOf, type Jwks } from '../core/identity/jwt-svid.js';

export interface JwtSigningKey {
  privateKey: KeyObject;
  kid: string;
  /** The JWKS (JSON) validators use. */
  jwksJson: string;
}

export const jwtKeyPath = (dataDir: string) => join(dataDir, 'pki', 'jwt-signing.key');

export function loadOrCreateJwtKey(dataDir: string): { key: JwtSigningKey; generated: boolean } {
  const path = jwtKeyPath(dataDir);
  const pem = readIfExists(path);
  let privateKey: KeyObject;
  if (pem) {
    privateKey = createPrivateKey(pem);
  } else {
    privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    writePrivateFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  }
  const jwk = jwkOf(createPublicKey(privateKey));
  const jwks: Jwks = { keys: [jwk] };
  return { key: { privateKey, kid: jwk.kid, jwksJson: JSON.stringify(jwks) }, generated: !pem };
}
