// The serviceaccounts/{name}/token subresource (TokenRequest) and tokenreviews (TokenReview).
import type { KubeObject } from '../../store/types.js';
import { MIN_EXPIRATION_SECONDS, type TokenRequestSpec } from '../auth/serviceaccount-tokens.js';
import { invalid, notFound } from '../server/status.js';
import { requireObject } from '../server/request.js';
import type { FieldCause } from '../resources/types.js';
import type { ApiContext } from './context.js';

const SERVICE_ACCOUNTS = { group: '', resource: 'serviceaccounts' };
/** Longest token lifetime accepted (kube-apiserver has no default cap; this keeps exp sane). */
const MAX_EXPIRATION_SECONDS = 2 ** 32;

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
}

/** POST …/serviceaccounts/{name}/token: 201 with status.token. */
export function createToken(ctx: ApiContext, namespace: string, name: string, body: KubeObject | Record<string, unknown>, dryRun: boolean): { code: number; object: unknown } {
  const sa = ctx.store.get(SERVICE_ACCOUNTS, namespace, name);
  if (!sa) throw notFound('', 'serviceaccounts', name);
  const spec = requireObject((body as { spec?: unknown }).spec ?? {}, 'spec');
  const causes: FieldCause[] = [];
  const audiences = spec.audiences === undefined || spec.audiences === null ? undefined : stringList(spec.audiences);
  if (spec.audiences !== undefined && spec.audiences !== null && !audiences) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.audiences', message: 'Invalid value: must be a list of strings' });
  }
  let expirationSeconds: number | undefined;
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null && spec.expirationSeconds !== 0) {
    const e = Number(spec.expirationSeconds);
    if (!Number.isInteger(e) || e < MIN_EXPIRATION_SECONDS) {
      causes.push({ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${String(spec.expirationSeconds)}: may not specify a duration less than 10 minutes` });
    } else if (e > MAX_EXPIRATION_SECONDS) {
      causes.push({ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${e}: may not specify a duration larger than 2^32 seconds` });
    } else expirationSeconds = e;
  }
  if (causes.length > 0) throw invalid('TokenRequest', 'authentication.k8s.io', name, causes);
  const request: TokenRequestSpec = { audiences, expirationSeconds, boundObjectRef: spec.boundObjectRef };
  const issued = ctx.tokens.issue(sa, request);
  return {
    code: 201,
    object: {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace, creationTimestamp: null },
      spec: { audiences: issued.audiences, expirationSeconds: issued.expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
      status: { token: dryRun ? '' : issued.token, expirationTimestamp: issued.expirationTimestamp },
    },
  };
}

/** POST /apis/authentication.k8s.io/v1/tokenreviews: always 201; failures go in status.error. */
export function reviewToken(ctx: ApiContext, body: Record<string, unknown>): { code: number; object: unknown } {
  const spec = requireObject(body.spec ?? {}, 'spec');
  const token = typeof spec.token === 'string' ? spec.token : '';
  const audiences = stringList(spec.audiences) ?? [];
  const outcome = token
    ? ctx.tokens.review(token, audiences, (ns, n) => ctx.store.get(SERVICE_ACCOUNTS, ns, n))
    : ({ authenticated: false, error: 'spec.token is required' } as const);
  const status = outcome.authenticated
    ? { authenticated: true, user: outcome.user, audiences: outcome.audiences }
    : { user: {}, error: outcome.error };
  return {
    code: 201,
    object: { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { ...spec, audiences: spec.audiences }, status },
  };
}
