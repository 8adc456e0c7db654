// Where a VM reaches the control plane's services (pure): the listeners of a local control plane
// (control-plane.json) or the default ports on the API's host, with the host replaced by
// --control-plane-host when the VM sees the control plane under another address.
import type { ControlPlaneEndpoints } from './bundle.js';
import { hostPort } from '../core/host-port.js';

export const DEFAULT_SERVICE_PORTS: ControlPlaneEndpoints = { identity: '8080', destination: '8086', policy: '8090', health: '8087' };

function splitHostPort(s: string): { host: string; port: string } | undefined {
  const m = /^(?:[a-z]+:\/\/)?(?:\[([^\]]+)\]|([^:/]+))(?::(\d+))?/.exec(s);
  if (!m) return undefined;
  return { host: m[1] ?? m[2], port: m[3] ?? '' };
}

const UNSPECIFIED = new Set(['0.0.0.0', '::', '']);

/**
 * @param listeners control-plane.json listeners (identity, destination, policy, health), if known
 * @param apiServer the kubeconfig's server URL
 * @param hostOverride --control-plane-host
 */
export function controlPlaneEndpoints(listeners: Record<string, string> | undefined, apiServer: string, hostOverride?: string): ControlPlaneEndpoints {
  const apiHost = splitHostPort(apiServer)?.host ?? '127.0.0.1';
  const out = {} as ControlPlaneEndpoints;
  for (const key of Object.keys(DEFAULT_SERVICE_PORTS) as (keyof ControlPlaneEndpoints)[]) {
    const known = listeners?.[key] ? splitHostPort(listeners[key]) : undefined;
    const port = known?.port || DEFAULT_SERVICE_PORTS[key];
    const listenHost = known && !UNSPECIFIED.has(known.host) ? known.host : apiHost;
    out[key] = hostPort(hostOverride ?? listenHost, port);
  }
  return out;
}
