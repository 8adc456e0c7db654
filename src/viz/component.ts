// The viz component of the control plane: discovers proxies, scrapes their metrics into bounded
// in-memory history (or queries Prometheus with --prometheus-url), and serves the viz API, tap
// relay and dashboard over HTTPS on --viz-port.
import type { ClusterComponent } from '../kube/cluster-view.js';
import { renewServiceCertificate, type ServiceCertificateRenewal } from '../core/tls/service-certificate.js';
import { AdminAuthenticator } from './auth.js';
import { MemoryBackend, type MetricsBackend } from './backend.js';
import { WorkloadDiscovery, parseScrapeTarget } from './discovery.js';
import type { WorkloadInfo } from './workload-info.js';
import { PrometheusBackend } from './promql.js';
import { Scraper } from './scraper.js';
import { startVizServer } from './server.js';
import type { PodNaming } from '../core/workloads/pod.js';
import { dialableHost, hostPort } from '../core/host-port.js';

/** What the viz is started with (src/controlplane/flags.ts). */
export interface VizOptions {
  port: number;
  /** Answer queries from this Prometheus instead of the built-in scraper. */
  prometheusUrl?: string;
  scrapeIntervalMs: number;
  /** Extra proxies to scrape: NAMESPACE/NAME=HOST:PORT[,tap=HOST:PORT]. */
  scrapeTargets: string[];
  /** The trust domain when no identity runs in this process (a proxy's identity is named in it). */
  trustDomain: string;
  /** The DNS name of meshed pods' certificates. */
  podNaming: PodNaming;
}

export const component: ClusterComponent<VizOptions> = {
  name: 'viz',
  async start(ctx, options) {
    const intervalMs = options.scrapeIntervalMs;
    const staticTargets = options.scrapeTargets.map(parseScrapeTarget);
    const trustDomain = ctx.identity?.trustDomain ?? options.trustDomain;
    const discovery = new WorkloadDiscovery({ cluster: ctx.cluster, log: ctx.log, staticTargets, trustDomain, podNaming: options.podNaming });
    discovery.start();
    const scraper = new Scraper({ intervalMs, clock: ctx.clock, log: ctx.log, workloads: () => discovery.workloads() });
    const promUrl = options.prometheusUrl;
    let backend: MetricsBackend;
    if (promUrl) backend = new PrometheusBackend(promUrl);
    else {
      backend = new MemoryBackend(() => scraper.targets.values());
      scraper.start();
    }
    // Re-issued at 70 % of its lifetime and after a trust-anchor change, as every control-plane service's.
    let cert: ServiceCertificateRenewal | undefined;
    const serving: { server?: import('node:https').Server } = {};
    if (ctx.identity) {
      cert = await renewServiceCertificate(ctx.identity, 'viz', {
        clock: ctx.clock,
        log: ctx.log,
        onRenewed: (c) => serving.server?.setSecureContext({ cert: c.chainPem, key: c.keyPem, minVersion: 'TLSv1.2' }),
      });
    } else ctx.log.warn('no identity component: the viz API is served over plain HTTP and tap is off');
    const server = await startVizServer({
      host: ctx.listen,
      port: options.port,
      tls: cert ? { cert: cert.current } : undefined,
      trustAnchorsPem: () => ctx.identity?.trustAnchorsPem() ?? '',
      auth: new AdminAuthenticator(ctx.kubeConfig, ctx.clock),
      sources: {
        backend,
        workloads: () => discovery.workloads(),
        proxyUp: promUrl ? (w: WorkloadInfo) => Boolean(w.adminAddress) : (w: WorkloadInfo) => scraper.upWorkloads.has(w.key),
        serviceRoutes: (ns, name) => discovery.serviceRoutes(ns, name),
      },
      targetStatus: backend instanceof PrometheusBackend
        ? () => (backend as PrometheusBackend).scrapeTargets()
        : () => [...scraper.targets.values()].map((t) => ({ workload: t.workload.key, adminAddress: t.workload.adminAddress ?? '', up: t.up, lastError: t.lastError })),
      scrapeIntervalMs: intervalMs,
      log: ctx.log,
    }).catch((e: unknown) => {
      cert?.stop();
      throw e;
    });
    serving.server = server.server as import('node:https').Server;
    ctx.log.info('viz listening', { port: server.port, backend: backend.kind });
    return {
      listeners: { viz: `${cert ? 'https' : 'http'}://${hostPort(dialableHost(ctx.listen), server.port)}` },
      stop: async () => {
        cert?.stop();
        scraper.stop();
        discovery.stop();
        await server.close();
      },
    };
  },
};
