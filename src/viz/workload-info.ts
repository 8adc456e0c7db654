// What the viz knows of one proxy to scrape and tap (an ExternalWorkload, an injected pod or a
// --scrape-target), whichever discovered it (discovery.ts, pod-targets.ts).
import type { TargetLabels } from './backend.js';

export interface WorkloadInfo {
  /** "namespace/name" */
  key: string;
  labels: TargetLabels;
  identity: string;
  health: 'Ready' | 'NotReady' | 'Unknown';
  /** host:port of the proxy's admin server (metrics), when known. */
  adminAddress?: string;
  /** host:port of the proxy's tap server. */
  tapAddress?: string;
  ports: { name?: string; port: number }[];
  /** Addresses the workload reported (status or annotation) that the viz will not connect to, and why. */
  refused?: string[];
  /** Every declared port is opaque by config.linkerd.io/opaque-ports (own or its group's): tap has nothing to show. */
  allPortsOpaque?: boolean;
}
