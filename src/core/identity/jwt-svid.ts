// Pure: JWT-SVIDs (SPIFFE JWT-SVID spec) signed ES256 with the identity service's P-256 key, its
// public key as a JWKS (RFC 7517, `use: jwt-svid`), and the checks a validator makes: signature by a
// key of the bundle, expiry, audience, and a SPIFFE ID as subject (docs/adr/0023).
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** JWT-SVIDs are short-lived: a caller fetches a new one per use (go-spiffe caches none). */
export const JWT_SVID_LIFETIME_MS = 5 * 60_000;

export interface Jwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  use: 'jwt-svid';
  alg: 'ES256';
}

export interface Jwks {
  keys: Jwk[];
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** The key's RFC 7638 thumbprint (base64url SHA-256 of its canonical members): a stable `kid`. */
export function jwkOf(publicKey: KeyObject): Jwk {
  const j = publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
  if (j.kty !== 'EC' || j.crv !== 'P-256') throw new Error('the JWT signing key must be ECDSA P-256');
  const kid = b64url(createHash('sha256').update(JSON.stringify({ crv: j.crv, kty: j.kty, x: j.x, y: j.y })).digest());
  return { kty: 'EC', crv: 'P-256', x: j.x, y: j.y, kid, use: 'jwt-svid', alg: 'ES256' };
}

export interface JwtSvidClaims {
  sub: string;
  aud: string[];
  iat: number;
  exp: number;
}

/** A compact JWS: header {alg ES256, kid, typ JWT}, the claims, and the raw (r||s) signature. */
export function signJwtSvid(privateKey: KeyObject, kid: string, subject: string, audience: string[], nowMs: number, lifetimeMs = JWT_SVID_LIFETIME_MS): { token: string; claims: JwtSvidClaims } {
  const claims: JwtSvidClaims = { sub: subject, aud: audience, iat: Math.floor(nowMs / 1000), exp: Math.floor((nowMs + lifetimeMs) / 1000) };
  const input = `${b64url(JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return { token: `${input}.${b64url(sig)}`, claims };
}

export class JwtSvidInvalid extends Error {}

function part(s: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {}
  throw new JwtSvidInvalid(`the token's ${what} is not base64url JSON`);
}

/** Checks a JWT-SVID against a bundle for one audience; returns its SPIFFE ID and claims, or throws JwtSvidInvalid naming the reason. */
export function validateJwtSvid(token: string, bundle: Jwks, audience: string, nowMs: number): { spiffeId: string; claims: Record<string, unknown> } {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtSvidInvalid('not a compact JWS (three dot-separated parts)');
  const header = part(parts[0], 'header');
  const claims = part(parts[1], 'claims');
  if (header.alg !== 'ES256') throw new JwtSvidInvalid(`unsupported alg ${String(header.alg)} (ES256 only)`);
  const jwk = bundle.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new JwtSvidInvalid(`no key ${String(header.kid)} in the trust domain's JWT bundle`);
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'))) throw new JwtSvidInvalid('bad signature');
  if (typeof claims.exp !== 'number') throw new JwtSvidInvalid('no exp claim');
  if (claims.exp * 1000 <= nowMs) throw new JwtSvidInvalid(`expired at ${new Date(claims.exp * 1000).toISOString()}`);
  const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!aud.includes(audience)) throw new JwtSvidInvalid(`audience ${audience} is not among the token's (${aud.join(', ') || 'none'})`);
  if (typeof claims.sub !== 'string' || !/^spiffe:\/\/[a-z0-9._-]+\/\S*$/.test(claims.sub)) throw new JwtSvidInvalid('the subject is not a SPIFFE ID');
  return { spiffeId: claims.sub, claims };
}
