// authentication.k8s.io/v1: TokenReview (virtual, create only) and the TokenRequest body of the
// serviceaccounts/token subresource (not a stored kind; its schema and checks live here).
import type { KubeObject } from '../../store/types.js';
import type { FieldCause, Schema } from './types.js';
import { bool, int64, obj, preserved, rootSchema, str, strings } from '../schema/builders.js';
import { invalid } from '../../kube/field-errors.js';
import { declareResource, asRecord } from './common.js';

export const AUTHENTICATION_GROUP = 'authentication.k8s.io';

export const tokenReviewType = declareResource({
  group: AUTHENTICATION_GROUP,
  kind: 'TokenReview',
  namespaced: false,
  versions: [
    {
      name: 'v1',
      schema: rootSchema({
        spec: obj({ token: str(), audiences: strings() }),
        status: obj({
          authenticated: bool(),
          user: obj({ username: str(), uid: str(), groups: strings(), extra: preserved() }),
          audiences: strings(),
          error: str(),
        }),
      }),
      served: true,
      storage: true,
    },
  ],
  builtin: true,
  virtual: true,
  verbs: ['create'],
  table: { columns: [], cells: () => [] },
});

/** serviceaccounts/{name}/token request body (authentication.k8s.io/v1 TokenRequest). */
export const tokenRequestSchema: Schema = rootSchema({
  spec: obj({
    audiences: strings(),
    expirationSeconds: int64(),
    boundObjectRef: { ...obj({ kind: str(), apiVersion: str(), name: str(), uid: str() }), nullable: true },
  }),
  status: obj({ token: str(), expirationTimestamp: str() }),
});

export const TOKEN_REQUEST_MIN_SECONDS = 600;
export const TOKEN_REQUEST_MAX_SECONDS = 2 ** 32;
export const TOKEN_REQUEST_DEFAULT_SECONDS = 3600;

/** Like kube-apiserver: expirationSeconds must be at least 10 minutes and below 2^32 seconds. */
export function validateTokenRequest(body: KubeObject): FieldCause[] {
  const seconds = asRecord(body.spec).expirationSeconds;
  if (typeof seconds !== 'number') return [];
  if (seconds < TOKEN_REQUEST_MIN_SECONDS) return [invalid('spec.expirationSeconds', seconds, 'may not specify a duration less than 10 minutes')];
  if (seconds >= TOKEN_REQUEST_MAX_SECONDS) return [invalid('spec.expirationSeconds', seconds, 'may not specify a duration larger than 2^32 seconds')];
  return [];
}

/** The serviceaccounts/token subresource, as discovery lists it. */
export const SERVICE_ACCOUNT_TOKEN_SUBRESOURCE = {
  resource: 'serviceaccounts',
  subresource: 'token',
  group: AUTHENTICATION_GROUP,
  version: 'v1',
  kind: 'TokenRequest',
  verbs: ['create'],
};

