// The identity service's JWT-SVID signing key: ECDSA P-256, generated on first start and kept across
// restarts — with the embedded API next to the CA in DATA_DIR/pki (0600); against Kubernetes in a
// Secret of its own (jwt-key-secret.ts), since a pod's data dir is an emptyDir. Its public half is
// the JWKS the control plane publishes (ConfigMap outpost/outpost-identity-trust-roots, key jwt-bundle.json).
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
  if (pem) return { key: jwtKeyFromPem(pem), generated: false };
  const pkcs8 = generateJwtKeyPem();
  writePrivateFile(path, pkcs8);
  return { key: jwtKeyFromPem(pkcs8), generated: true };
}

/** A new P-256 private key, PKCS#8 PEM. */
export function generateJwtKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The signing key and its JWKS from a PKCS#8 PEM; throws if it is not a P-256 private key. */
export function jwtKeyFromPem(pem: string): JwtSigningKey {
  const privateKey: KeyObject = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not an ECDSA P-256 private key');
  const jwk = jwkOf(createPublicKey(privateKey));
  const jwks: Jwks = { keys: [jwk] };
  return { privateKey, kid: jwk.kid, jwksJson: JSON.stringify(jwks) };
}
