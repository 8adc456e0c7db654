// The shape of one control-plane component in a cluster (ServiceAccount, RBAC rules, its port) and
// `declareComponent`, which fills in what follows from the name, so each entry states only what is
// its own. Components import this file; src/install/components.ts lists them all.

/** The read verbs an informer needs. */
export const READ = ['get', 'list', 'watch'];

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface InstallComponent {
  /** The name `outpost up` knows the component by (`--components`). */
  name: string;
  serviceAccount: string;
  /**
   * The name its serving certificate is issued for, when not `name` (the controllers serve the
   * health API: `health`). Its Service is outpost-<service>, a name the certificate carries
   * (outpost-<service>.outpost.svc), and the address injected proxies dial.
   */
  service?: string;
  /** Cluster-wide rules (a ClusterRole bound to the ServiceAccount). */
  clusterRules: PolicyRule[];
  /** Rules in the `outpost` namespace only (a Role). */
  namespaceRules: PolicyRule[];
  /** Named container ports, each also a Service port. */
  ports: { name: string; port: number; flag: string }[];
  replicas: number;
  /** What the component does, for the Deployment's description. */
  summary: string;
}

/** What a component declares; the rest follows from its name. */
export interface ComponentDeclaration {
  summary: string;
  /** Its serving port (container and Service port `name`), set by the flag `--<service or name>-port`. */
  port: { name: string; number: number };
  clusterRules?: PolicyRule[];
  namespaceRules?: PolicyRule[];
  service?: string;
  /** 1 unless said. */
  replicas?: number;
}

/** A component entry: ServiceAccount outpost-<name>, no rules unless declared, one replica unless declared. */
export function declareComponent(name: string, d: ComponentDeclaration): InstallComponent {
  return {
    name,
    serviceAccount: `outpost-${name}`,
    ...(d.service === undefined ? {} : { service: d.service }),
    summary: d.summary,
    clusterRules: d.clusterRules ?? [],
    namespaceRules: d.namespaceRules ?? [],
    ports: [{ name: d.port.name, port: d.port.number, flag: `${d.service ?? name}-port` }],
    replicas: d.replicas ?? 1,
  };
}
