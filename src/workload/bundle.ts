// The onboarding bundle, rendered as text (pure): ca.crt, token, proxy-config.yaml (the guide's
// format, read by src/proxy/config.ts), a systemd unit, install.sh, and the commands to run on the VM;
// for one ExternalWorkload, or for every VM of a WorkloadGroup (auto-registration, docs/adr/0010).
import { isIP } from 'node:net';
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
  /** The DNS proxy (answers Service names; install.sh --dns sends the VM's DNS to it). */
  dns: HostPort;
  upstreams: UpstreamListener[];
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** How long SIGTERM waits for in-flight work (proxy default 30s); the demo shortens it. */
  shutdownGrace?: string;
}

export function defaultLayout(req: Pick<OnboardRequest, 'inboundPort'>): ProxyLayout {
  return {
    installDir: '/etc/outpost',
    stateDir: '/var/lib/outpost/proxy',
    admin: { host: '0.0.0.0', port: 4191 },
    inbound: { host: '0.0.0.0', port: req.inboundPort },
    outbound: { host: '127.0.0.1', port: 4140 },
    tap: { host: '0.0.0.0', port: 4190 },
    dns: { host: '127.0.0.1', port: 4153 },
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
  const { req } = input;
  return configText(subjectOf(req), { name: req.name, namespace: req.namespace }, input);
}

/** What a bundle is for: one named workload, or any VM of a group (the address is filled in by install.sh). */
interface BundleSubject {
  /** "ExternalWorkload NS/NAME" or "WorkloadGroup NS/GROUP" */
  title: string;
  ref: string;
  ports: number[];
  /** Group bundles: the host whose route gives the VM's own address when install.sh has no --address. */
  routeTo?: string;
}

function subjectOf(req: Pick<OnboardRequest, 'namespace' | 'name' | 'ports'>): BundleSubject {
  return { title: `ExternalWorkload ${req.namespace}/${req.name}`, ref: `${req.namespace}/${req.name}`, ports: req.ports.map((p) => p.port) };
}

/** Stands for the VM's address in a group bundle's proxy-config.yaml until install.sh writes it in. */
export const ADDRESS_PLACEHOLDER = '@WORKLOAD_ADDRESS@';

function configText(subject: BundleSubject, workload: Record<string, string>, input: Pick<BundleInput, 'endpoints' | 'layout'>): string {
  const { endpoints, layout } = input;
  const doc: Record<string, unknown> = {
    admin: { address: layout.admin.host, port: layout.admin.port },
    inbound: { address: layout.inbound.host, port: layout.inbound.port },
    outbound: { address: layout.outbound.host, port: layout.outbound.port },
    tap: { address: layout.tap.host, port: layout.tap.port },
    dns: { address: layout.dns.host, port: layout.dns.port },
    identity: {
      trustAnchors: `${layout.installDir}/${BUNDLE_FILES.ca}`,
      tokenPath: `${layout.installDir}/${BUNDLE_FILES.token}`,
      endpoint: endpoints.identity,
      dir: layout.stateDir,
    },
    destination: { endpoint: endpoints.destination },
    policy: { endpoint: endpoints.policy },
    health: { endpoint: endpoints.health },
    workload,
    ...(layout.upstreams.length
      ? { upstreams: layout.upstreams.map((u) => ({ service: u.service, port: u.port, listen: u.listen, ...(u.protocol ? { protocol: u.protocol } : {}) })) }
      : {}),
    ...(layout.shutdownGrace ? { timeouts: { shutdownGrace: layout.shutdownGrace } } : {}),
    log: { level: layout.logLevel },
  };
  const header = [
    `# Outpost proxy configuration for ${subject.title}`,
    '# written by `outpost workload onboard`; every setting is described in docs/proxy.md',
    ...(subject.routeTo ? [`# install.sh replaces ${ADDRESS_PLACEHOLDER} with this VM's address (--address, or the source address of the route to ${subject.routeTo})`] : []),
    '',
  ].join('\n');
  return header + toYaml(doc);
}

export function renderSystemdUnit(input: Pick<BundleInput, 'req' | 'layout'>): string {
  return unitText(subjectOf(input.req), input.layout);
}

function unitText(subject: BundleSubject, layout: ProxyLayout, installedBy = 'install.sh'): string {
  return `# Outpost proxy for ${subject.title} (installed by ${installedBy})
[Unit]
Description=Outpost proxy (${subject.ref})
Wants=network-online.target
After=network-online.target

[Service]
User=${PROXY_USER}
ExecStart=@OUTPOST_BIN@ proxy --config ${layout.installDir}/${BUNDLE_FILES.config}
# \`systemctl reload\` restarts without an outage (also after an upgrade): a new proxy takes over the
# listening sockets and becomes the main process; the old one drains (timeouts.drain) and exits.
ExecReload=/bin/kill -HUP $MAINPID
NotifyAccess=all
# SIGTERM (stop, restart) drains: in-flight requests finish within the proxy's shutdown grace period.
KillSignal=SIGTERM
TimeoutStopSec=45
Restart=always
RestartSec=2
StateDirectory=outpost/proxy
StateDirectoryMode=0700
# The packaged executable unpacks its native addons and .proto files here (docs/packaging.md).
RuntimeDirectory=outpost-proxy
RuntimeDirectoryMode=0700
NoNewPrivileges=true
ProtectSystem=strict
ReadWritePaths=${layout.stateDir}
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}

/** The unit the .deb/.rpm installs (/usr/lib/systemd/system); a bundle's install.sh writes its own to /etc/systemd/system. */
export function renderPackagedUnit(outpostBin: string): string {
  const layout = defaultLayout({ inboundPort: 4143 });
  const subject: BundleSubject = { title: 'this VM', ref: `${layout.installDir}/${BUNDLE_FILES.config}`, ports: [] };
  const by = `the outpost package; an onboarding bundle's install.sh writes the configuration and /etc/systemd/system/${BUNDLE_FILES.unit}`;
  return unitText(subject, layout, by).replace('@OUTPOST_BIN@', outpostBin);
}

/** Shell lines creating the proxy's system user when missing (install.sh and the packages' post-install). */
export function proxyUserSetup(): string {
  return `if ! id ${PROXY_USER} >/dev/null 2>&1; then
  useradd --system --uid ${PROXY_UID} --no-create-home --shell /usr/sbin/nologin ${PROXY_USER}
fi
`;
}

export function renderInstallScript(input: Pick<BundleInput, 'req' | 'layout'>): string {
  return installText(subjectOf(input.req), input.layout);
}

/** install.sh's lines that find this VM's address (group bundles): --address, else the route's source address. */
function addressLines(routeTo: string): string {
  // `ip route get` needs an address; a host name is resolved first.
  const target = isIP(routeTo) ? `ROUTE_TO=${routeTo}` : `ROUTE_TO=$(getent ahosts ${routeTo} | awk 'NR==1 {print $1}')`;
  return `if [ -z "$ADDRESS" ]; then
  ${target}
  ADDRESS=$(ip route get "$ROUTE_TO" 2>/dev/null | sed -n 's/.* src \\([^ ]*\\).*/\\1/p' | head -n 1)
  if [ -z "$ADDRESS" ]; then
    echo "install.sh: cannot detect this VM's address (no route to ${routeTo}); pass it: ./install.sh --address IP" >&2
    exit 1
  fi
fi
case "$ADDRESS" in
  *[!0-9A-Fa-f.:]*) echo "install.sh: --address: '$ADDRESS' is not an IP address" >&2; exit 2 ;;
esac
`;
}

/** install.sh's lines for a bundle that carries the executable (./outpost): installed as /usr/bin/outpost unless that version is there. */
function binaryLines(): string {
  return `if [ -z "\${OUTPOST_BIN:-}" ] && [ -f ./outpost ]; then
  BUNDLED=$(./outpost --version) || { echo "install.sh: ./outpost does not run on this machine (linux-x64, glibc 2.34+ needed)" >&2; exit 1; }
  CURRENT=$(/usr/bin/outpost --version 2>/dev/null || true)
  if [ "$BUNDLED" != "$CURRENT" ]; then
    install -m 0755 ./outpost /usr/bin/outpost.new && mv -f /usr/bin/outpost.new /usr/bin/outpost
    echo "install.sh: installed /usr/bin/outpost ($BUNDLED)\${CURRENT:+, replacing $CURRENT}"
  fi
  OUTPOST_BIN=/usr/bin/outpost
fi
`;
}

function installText(subject: BundleSubject, layout: ProxyLayout): string {
  const ports = subject.ports.join(',');
  const d = layout.installDir;
  const group = subject.routeTo !== undefined;
  const usage = group ? '[--address IP] [--capture [--dns]]' : '[--capture [--dns]]';
  const fresh = `${d}/${BUNDLE_FILES.config}.new`;
  const config = `${group ? `sed "s#${ADDRESS_PLACEHOLDER}#$ADDRESS#" ${BUNDLE_FILES.config} > ${fresh}
chmod 0644 ${fresh}` : `install -m 0644 ${BUNDLE_FILES.config} ${fresh}`}
# A config already installed keeps what you set or added (upstreams, dns, timeouts, ...).
if [ -f ${d}/${BUNDLE_FILES.config} ]; then
  "$OUTPOST_BIN" workload merge-config ${d}/${BUNDLE_FILES.config} ${fresh}
  rm -f ${fresh}
else
  mv ${fresh} ${d}/${BUNDLE_FILES.config}
fi`;
  return `#!/bin/sh
# Installs the Outpost proxy for ${subject.title} on this VM and starts it.
# Run as root from the bundle directory:  sudo ./install.sh ${usage}
${group ? `#   --address IP  this VM's address, registered into the group (default: the source address of
#                 this VM's route to ${subject.routeTo}, as \`ip route get\` shows it)
` : ''}#   --capture  also install transparent traffic capture (outpost proxy-init --external-workload)
#   --dns      with --capture: the VM's DNS goes to the proxy, which answers Service names
#              (postgres.hybrid-app, postgres.hybrid-app.svc.cluster.local) and forwards the rest
# A bundle that carries ./outpost (onboard --with-binary) installs it as /usr/bin/outpost unless that
# version is already there; otherwise the outpost on PATH (or $OUTPOST_BIN) runs the proxy.
# Re-running is safe: files are replaced and the proxy restarted.
set -eu
cd "$(dirname "$0")"
CAPTURE=0
DNS=0
${group ? 'ADDRESS=""\n' : ''}while [ $# -gt 0 ]; do
  case "$1" in
    --capture) CAPTURE=1 ;;
    --dns) DNS=1 ;;
${group ? `    --address) [ $# -ge 2 ] || { echo "install.sh: --address needs a value" >&2; exit 2; }; ADDRESS=$2; shift ;;
    --address=*) ADDRESS=\${1#--address=} ;;
` : ''}    *) echo "install.sh: unknown argument $1 (expected ${usage})" >&2; exit 2 ;;
  esac
  shift
done
if [ "$DNS" = 1 ] && [ "$CAPTURE" != 1 ]; then echo "install.sh: --dns needs --capture" >&2; exit 2; fi
if [ "$(id -u)" != 0 ]; then echo "install.sh: run as root (sudo ./install.sh)" >&2; exit 1; fi
${group ? addressLines(subject.routeTo!) : ''}${binaryLines()}OUTPOST_BIN="\${OUTPOST_BIN:-$(command -v outpost || true)}"
if [ -z "$OUTPOST_BIN" ]; then
  echo "install.sh: the outpost command is not on PATH; install Outpost first, or onboard with --with-binary, or set OUTPOST_BIN=/path/to/outpost" >&2
  exit 1
fi
echo "install.sh: the proxy runs $OUTPOST_BIN: $("$OUTPOST_BIN" --version)"
${proxyUserSetup()}install -d -m 0755 ${d}
install -d -m 0700 -o ${PROXY_USER} ${layout.stateDir}
install -m 0644 ${BUNDLE_FILES.ca} ${d}/${BUNDLE_FILES.ca}
install -m 0600 -o ${PROXY_USER} ${BUNDLE_FILES.token} ${d}/${BUNDLE_FILES.token}
${config}
sed "s#@OUTPOST_BIN@#$OUTPOST_BIN#" ${BUNDLE_FILES.unit} > /etc/systemd/system/${BUNDLE_FILES.unit}
"$OUTPOST_BIN" proxy --config ${d}/${BUNDLE_FILES.config} --check
if [ "$CAPTURE" = 1 ]; then
  "$OUTPOST_BIN" proxy-init --external-workload --proxy-uid "$(id -u ${PROXY_USER})" \\
    --inbound-port ${layout.inbound.port} --outbound-port ${layout.outbound.port}${ports ? ` --inbound-ports ${ports}` : ''} \\
    $( [ "$DNS" = 1 ] && echo "--redirect-dns --dns-port ${layout.dns.port}" )
fi
systemctl daemon-reload
systemctl enable ${BUNDLE_FILES.unit}
systemctl restart ${BUNDLE_FILES.unit}
echo "outpost-proxy started for ${subject.ref}${group ? ' at $ADDRESS' : ''}; follow it with: journalctl -u outpost-proxy -f"
`;
}

function bundleFiles(caPem: string, token: string, config: string, unit: string, install: string): RenderedBundle['files'] {
  return [
    { name: BUNDLE_FILES.ca, content: caPem.endsWith('\n') ? caPem : caPem + '\n', mode: 0o644 },
    { name: BUNDLE_FILES.token, content: token.trim() + '\n', mode: 0o600 },
    { name: BUNDLE_FILES.config, content: config, mode: 0o644 },
    { name: BUNDLE_FILES.unit, content: unit, mode: 0o644 },
    { name: BUNDLE_FILES.install, content: install, mode: 0o755 },
  ];
}

export function renderBundle(input: BundleInput, bundleDirName: string, vmAddress: string): RenderedBundle {
  const subject = subjectOf(input.req);
  const files = bundleFiles(input.caPem, input.token, configText(subject, { name: input.req.name, namespace: input.req.namespace }, input), unitText(subject, input.layout), installText(subject, input.layout));
  const vmCommands = [
    `scp -r ${bundleDirName} root@${vmAddress}:/tmp/outpost-bundle`,
    `ssh root@${vmAddress} /tmp/outpost-bundle/${BUNDLE_FILES.install} --capture`,
  ];
  return { files, vmCommands };
}

export interface GroupBundleInput {
  namespace: string;
  group: string;
  /** The group template's ports (captured with install.sh --capture). */
  ports: number[];
  endpoints: ControlPlaneEndpoints;
  caPem: string;
  token: string;
  layout: ProxyLayout;
}

/** The host part of a host:port endpoint ([v6]:port too). */
function hostOf(endpoint: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(endpoint) ?? /^([^:]+)(?::\d+)?$/.exec(endpoint);
  return m ? m[1] : endpoint;
}

/** One bundle for every VM of a group: its proxies auto-register as `<group>-<address>` (docs/adr/0010). */
export function renderGroupBundle(input: GroupBundleInput, bundleDirName: string): RenderedBundle {
  const routeTo = hostOf(input.endpoints.identity);
  const subject: BundleSubject = { title: `WorkloadGroup ${input.namespace}/${input.group}`, ref: `${input.namespace}/group:${input.group}`, ports: input.ports, routeTo };
  const config = configText(subject, { namespace: input.namespace, group: input.group, address: ADDRESS_PLACEHOLDER }, input);
  const files = bundleFiles(input.caPem, input.token, config, unitText(subject, input.layout), installText(subject, input.layout));
  const vmCommands = [
    `scp -r ${bundleDirName} root@VM:/tmp/outpost-bundle`,
    `ssh root@VM /tmp/outpost-bundle/${BUNDLE_FILES.install} --capture`,
  ];
  return { files, vmCommands };
}
