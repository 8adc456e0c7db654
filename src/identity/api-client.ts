// API clients that reuse their HTTPS connections. @kubernetes/client-node 1.4 builds a new agent
// (so a new TLS handshake) for every request; the identity service calls TokenReview and reads
// workloads on its hot path, so it keeps one keep-alive agent per client instead.
import { createConfiguration, ServerConfiguration, type KubeConfig, type RequestContext, type SecurityAuthentication } from '@kubernetes/client-node';
import { Agent } from 'node:https';

type ApiConstructor<T> = new (config: ReturnType<typeof createConfiguration>) => T;

export function makeKeepAliveApiClient<T>(kc: KubeConfig, type: ApiConstructor<T>): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  let shared: Agent | undefined;
  const auth: SecurityAuthentication = {
    getName: () => 'outpost-keepalive',
    async applySecurityAuthentication(context: RequestContext) {
      await kc.applySecurityAuthentication(context);
      const made = context.getAgent();
      if (made instanceof Agent) {
        shared ??= new Agent({ ...made.options, keepAlive: true, maxSockets: 16 });
        context.setAgent(shared);
      }
    },
  };
  return new type(createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: auth } }));
}
