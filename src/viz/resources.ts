// Resource kinds as users type them (Linkerd's names and short names), and `--from`/target parsing.
import { OutpostError } from '../core/errors.js';

export type ResourceKind = 'externalworkload' | 'deployment' | 'service' | 'namespace' | 'authority';

const KINDS: Record<string, ResourceKind> = {
  ew: 'externalworkload', externalworkload: 'externalworkload', externalworkloads: 'externalworkload',
  po: 'externalworkload', pod: 'externalworkload', pods: 'externalworkload',
  deploy: 'deployment', deployment: 'deployment', deployments: 'deployment', sts: 'deployment', statefulset: 'deployment', statefulsets: 'deployment',
  svc: 'service', service: 'service', services: 'service',
  ns: 'namespace', namespace: 'namespace', namespaces: 'namespace',
  au: 'authority', authority: 'authority', authorities: 'authority',
};

export interface ResourceRef {
  kind: ResourceKind;
  name?: string;
}

/** "ew", "deploy/api-server", "svc/web" → kind and optional name. */
export function parseResource(s: string, field = 'resource'): ResourceRef {
  const [k, name, extra] = s.split('/');
  const kind = KINDS[k?.toLowerCase() ?? ''];
  if (!kind || extra !== undefined || name === '') {
    throw new OutpostError('INVALID_ARGUMENT', `${field}: "${s}" is not KIND[/NAME] with KIND one of externalworkload (ew), deploy, svc, ns, authority`, { field });
  }
  return name ? { kind, name } : { kind };
}

export const WINDOWS: Record<string, number> = { '1m': 60_000, '10m': 600_000, '1h': 3_600_000 };

export function parseWindow(s: string | undefined): number {
  const w = WINDOWS[s ?? '1m'];
  if (!w) throw new OutpostError('INVALID_ARGUMENT', `--time-window: "${s}" is not one of 1m, 10m, 1h`, { field: 'time-window' });
  return w;
}
