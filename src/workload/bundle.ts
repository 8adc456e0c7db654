// The onboarding bundle, rendered as text (pure): ca.crt, token, proxy-config.yaml (the guide's
// format, read by src/proxy/config.ts), a systemd unit, install.sh, and the commands to run on the VM.
import { stringify as toYaml } from 'yaml';
import type { OnboardRequest } from './request.js';

export const BUNDLE_FILES = { ca: 'ca.crt', token: 'token', config: 'proxy-config.yaml', unit: 'outpost-proxy.service', install: 'install.sh' } as const;
/** The proxy runs as this user on the VM; `outpost proxy-init --proxy-uid` skips its traffic. */
export const PROXY_USER = 'outpost-proxy';
export const PROXY_UID = 2102;

export interface ControlPlaneEndpoints {
  /** host:port each, as the VM reaches them. */
  identity: string;
  destination: string;
  policy: string;
  health: string;
}

export interface HostPort {
  host: string;
  port: number;
}

export interface UpstreamListener {
  /** Logical service, e.g. postgres.hybrid-app.svc.cluster.local */
  service: string;
  port: number;
  listen: string;
  protocol?: 'detect' | 'opaque';
}

/** Where things live and listen on the VM; the defaults are a real VM's, the demo overrides them. */
export interface ProxyLayout {
  installDir: string;
  stateDir: string;
  admin: HostPort;
  inbound: HostPort;
  outbound: HostPort;
  tap: HostPort;
  upstreams: UpstreamListener[];
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** How long SIGTERM waits for in-flight work (proxy default 30s); the demo shortens it. */
  shutdownGrace?: string;
}

export function defaultLayout(req: Pick<OnboardRequest, 'inboundPort'>): ProxyLayout {
  return {
    installDir: '/etc/outpost',
    stateDir: '/var/lib/outpost/proxy',
    admin: { host: '127.0.0.1', port: 4191 },
    inbound: { host: '0.0.0.0', port: req.inboundPort },
    outbound: { host: '127.0.0.1', port: 4140 },
    tap: { host: '0.0.0.0', port: 4190 },
    upstreams: [],
    logLevel: 'info',
  };
}

export interface BundleInput {
  req: OnboardRequest;
  endpoints: ControlPlaneEndpoints;
  caPem: string;
  token: string;
  layout: ProxyLayout;
}

export interface RenderedBundle {
  /** file name → content; `mode` for files that are not 0644. */
  files: { name: string; content: string; mode: number }[];
  /** What the user runs on the VM, one command a line. */
  vmCommands: string[];
}

export function renderProxyConfig(input: Omit<BundleInput, 'token' | 'caPem'>): string {
  const { req, endpoints, layout } = input;
  const doc: Record<string, unknown> = {
    admin: { address: layout.admin.host, port: layout.admin.port },
    inbound: { address: layout.inbound.host, port: layout.inbound.port },
    outbound: { address: layout.outbound.host, port: layout.outbound.port },
    tap: { address: layout.tap.host, port: layout.tap.port },
    identity: {
      trustAnchors: `${layout.installDir}/${BUNDLE_FILES.ca}`,
      tokenPath: `${layout.installDir}/${BUNDLE_FILES.token}`,
      endpoint: endpoints.identity,
      dir: layout.stateDir,
    },
    destination: { endpoint: endpoints.destination },
    policy: { endpoint: endpoints.policy },
    health: { endpoint: endpoints.health },
    workload: { name: req.name, namespace: req.namespace },
    ...(layout.upstreams.length
      ? { upstreams: layout.upstreams.map((u) => ({ service: u.service, port: u.port, listen: u.listen, ...(u.protocol ? { protocol: u.protocol } : {}) })) }
      : {}),
    ...(layout.shutdownGrace ? { timeouts: { shutdownGrace: layout.shutdownGrace } } : {}),
    log: { level: layout.logLevel },
  };
  const header = [
    `# Outpost proxy configuration for ExternalWorkload ${req.namespace}/${req.name}`,
    '# written by `outpost workload onboard`; every setting is described in docs/proxy.md',
    '',
  ].join('\n');
  return header + toYaml(doc);
}

export function renderSystemdUnit(input: Pick<BundleInput, 'req' | 'layout'>): string {
  const { req, layout } = input;
  return `# Outpost proxy for ExternalWorkload ${req.namespace}/${req.name} (installed by install.sh)
[Unit]
Description=Outpost proxy (${req.namespace}/${req.name})
Wants=network-online.target
After=network-online.target

[Service]
User=${PROXY_USER}
ExecStart=@OUTPOST_BIN@ proxy --config ${layout.installDir}/${BUNDLE_FILES.config}
# SIGTERM drains: in-flight requests finish within the proxy's shutdown grace period.
KillSignal=SIGTERM
TimeoutStopSec=45
Restart=always
RestartSec=2
StateDirectory=outpost/proxy
StateDirectoryMode=0700
NoNewPrivileges=true
ProtectSystem=strict
ReadWritePaths=${layout.stateDir}
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}

export function renderInstallScript(input: Pick<BundleInput, 'req' | 'layout'>): string {
  const { req, layout } = input;
  const ports = req.ports.map((p) => p.port).join(',');
  const d = layout.installDir;
  return `#!/bin/sh
# Installs the Outpost proxy for ExternalWorkload ${req.namespace}/${req.name} on this VM and starts it.
# Run as root from the bundle directory:  sudo ./install.sh [--capture]
#   --capture  also install transparent traffic capture (outpost proxy-init --external-workload)
# Re-running is safe: files are replaced and the proxy restarted.
set -eu
cd "$(dirname "$0")"
CAPTURE=0
for arg in "$@"; do
  case "$arg" in
    --capture) CAPTURE=1 ;;
    *) echo "install.sh: unknown argument $arg (expected --capture)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then echo "install.sh: run as root (sudo ./install.sh)" >&2; exit 1; fi
OUTPOST_BIN="\${OUTPOST_BIN:-$(command -v outpost || true)}"
if [ -z "$OUTPOST_BIN" ]; then
  echo "install.sh: the outpost command is not on PATH; install Outpost first or set OUTPOST_BIN=/path/to/outpost" >&2
  exit 1
fi
if ! id ${PROXY_USER} >/dev/null 2>&1; then
  useradd --system --uid ${PROXY_UID} --no-create-home --shell /usr/sbin/nologin ${PROXY_USER}
fi
install -d -m 0755 ${d}
install -d -m 0700 -o ${PROXY_USER} ${layout.stateDir}
install -m 0644 ${BUNDLE_FILES.ca} ${d}/${BUNDLE_FILES.ca}
install -m 0600 -o ${PROXY_USER} ${BUNDLE_FILES.token} ${d}/${BUNDLE_FILES.token}
install -m 0644 ${BUNDLE_FILES.config} ${d}/${BUNDLE_FILES.config}
sed "s#@OUTPOST_BIN@#$OUTPOST_BIN#" ${BUNDLE_FILES.unit} > /etc/systemd/system/${BUNDLE_FILES.unit}
"$OUTPOST_BIN" proxy --config ${d}/${BUNDLE_FILES.config} --check
if [ "$CAPTURE" = 1 ]; then
  "$OUTPOST_BIN" proxy-init --external-workload --proxy-uid "$(id -u ${PROXY_USER})" \\
    --inbound-port ${layout.inbound.port} --outbound-port ${layout.outbound.port}${ports ? ` --inbound-ports ${ports}` : ''}
fi
systemctl daemon-reload
systemctl enable ${BUNDLE_FILES.unit}
systemctl restart ${BUNDLE_FILES.unit}
echo "outpost-proxy started for ${req.namespace}/${req.name}; follow it with: journalctl -u outpost-proxy -f"
`;
}

export function renderBundle(input: BundleInput, bundleDirName: string, vmAddress: string): RenderedBundle {
  const files = [
    { name: BUNDLE_FILES.ca, content: input.caPem.endsWith('\n') ? input.caPem : input.caPem + '\n', mode: 0o644 },
    { name: BUNDLE_FILES.token, content: input.token.trim() + '\n', mode: 0o600 },
    { name: BUNDLE_FILES.config, content: renderProxyConfig(input), mode: 0o644 },
    { name: BUNDLE_FILES.unit, content: renderSystemdUnit(input), mode: 0o644 },
    { name: BUNDLE_FILES.install, content: renderInstallScript(input), mode: 0o755 },
  ];
  const vmCommands = [
    `scp -r ${bundleDirName} root@${vmAddress}:/tmp/outpost-bundle`,
    `ssh root@${vmAddress} /tmp/outpost-bundle/${BUNDLE_FILES.install} --capture`,
  ];
  return { files, vmCommands };
}
