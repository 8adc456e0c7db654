// Compact JWS (JWT) signing and verification with ES256 only, for ServiceAccount tokens.
// Pure functions over node:crypto keys; time is passed in so tests need no clock.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

export type JwtVerifyResult = { ok: true; claims: JwtClaims } | { ok: false; reason: string };

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** The key id Kubernetes uses: base64url SHA-256 of the public key's DER (SubjectPublicKeyInfo). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return b64url(createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest());
}

export function signJwt(claims: JwtClaims, privateKey: KeyObject, kid = keyIdOf(privateKey)): string {
  const header = b64url(JSON.stringify({ alg: 'ES256', kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${b64url(signature)}`;
}

/** Checks shape, algorithm, signature and the time claims (exp, nbf) against nowSeconds, with leeway. */
export function verifyJwt(token: string, publicKey: KeyObject, nowSeconds: number, leewaySeconds = 0): JwtVerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, reason: 'token is not a JWT' };
  let header: { alg?: unknown };
  let claims: JwtClaims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'token is malformed' };
  }
  if (!header || typeof header !== 'object' || header.alg !== 'ES256') return { ok: false, reason: 'unsupported signing algorithm' };
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) return { ok: false, reason: 'token claims are malformed' };
  const signature = Buffer.from(parts[2], 'base64url');
  const valid = signature.length === 64 && verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  if (!valid) return { ok: false, reason: 'invalid signature' };
  if (typeof claims.exp !== 'number') return { ok: false, reason: 'token has no expiry' };
  if (nowSeconds > claims.exp + leewaySeconds) return { ok: false, reason: 'token has expired' };
  if (typeof claims.nbf === 'number' && nowSeconds + leewaySeconds < claims.nbf) return { ok: false, reason: 'token is not valid yet' };
  return { ok: true, claims };
}

/** The token's audiences as a list (the aud claim may be a string or a list). */
export function audiencesOf(claims: JwtClaims): string[] {
  if (typeof claims.aud === 'string') return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : [];
}
