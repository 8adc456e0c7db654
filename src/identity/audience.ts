// The audience of the tokens a workload bootstraps with, and how to read which audiences a token
// claims (before TokenReview checks it): shared by the TokenReview call and the pod-token path.

/** The dedicated audience of bootstrap tokens: `kubectl create token SA --audience identity.outpost.io`. */
export const IDENTITY_AUDIENCE = 'identity.outpost.io';

/** The audiences a token claims, read without verification: only to pick the audience TokenReview checks. */
export function claimedAudiences(token: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown };
    if (typeof payload.aud === 'string') return [payload.aud];
    return Array.isArray(payload.aud) ? payload.aud.filter((a): a is string => typeof a === 'string') : [];
  } catch {
    return [];
  }
}
