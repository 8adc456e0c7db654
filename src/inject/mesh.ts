// What the injected proxy needs to know about the mesh it joins: the control plane's addresses,
// trust anchors, trust domain, image. Defaults are the in-cluster Services `outpost install` creates.
import { IDENTITY_AUDIENCE } from '../identity/audience.js';
import { DEFAULT_TRUST_DOMAIN } from '../core/workloads/effective.js';
import { OUTPOST_VERSION } from '../core/version.js';

/** Pods' projected tokens carry the same dedicated audience as VM bootstrap tokens. */
export const IDENTITY_AUDIENCE_FOR_PODS = IDENTITY_AUDIENCE;

export interface MeshSettings {
  version: string;
  /** Image repository of the proxy (tag: the version, or config.linkerd.io/proxy-version). */
  proxyImage: string;
  trustAnchorsPem: string;
  trustDomain: string;
  controlPlaneNamespace: string;
  /** host:port of each control-plane service, as the proxy dials them. */
  identity: string;
  destination: string;
  policy: string;
  /** linkerd.io/created-by, e.g. "outpost/cli 0.1.0". */
  createdBy: string;
  /** Lifetime of the projected token; 600 s is the shortest the API allows, the kubelet refreshes it at 80 %. */
  tokenExpirationSeconds: number;
}

export const DEFAULT_PROXY_IMAGE = 'ghcr.io/outpost-mesh/outpost';
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 600;

export function defaultMeshSettings(over: Partial<MeshSettings> & { trustAnchorsPem: string; createdBy: string }): MeshSettings {
  const ns = over.controlPlaneNamespace ?? 'outpost';
  return {
    version: OUTPOST_VERSION,
    proxyImage: DEFAULT_PROXY_IMAGE,
    trustDomain: DEFAULT_TRUST_DOMAIN,
    controlPlaneNamespace: ns,
    // The Services `outpost install` creates (src/install/render.ts).
    identity: `outpost-identity.${ns}.svc.cluster.local:8080`,
    destination: `outpost-destination.${ns}.svc.cluster.local:8086`,
    policy: `outpost-policy.${ns}.svc.cluster.local:8090`,
    tokenExpirationSeconds: DEFAULT_TOKEN_EXPIRATION_SECONDS,
    ...(Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) as typeof over),
  };
}
