// Outpost's architecture, declared once: the layers of src/ (lowest first) and the boundaries that
// lint/rules.js enforces in ESLint; test/architecture/ checks the whole folder graph against them.
// Why each rule exists: docs/architecture.md ("Guardrails") and docs/adr/0025-layers-of-src.md.

/**
 * Every folder of src/, lowest layer first. A folder may import folders of its own layer or lower
 * ones, never a higher one, and no two folders may import each other (directly or round a circle).
 * A new folder must be placed here: the architecture test fails on a folder it does not know.
 */
export const LAYERS = [
  ['core'], // mechanisms every process shares (errors, logs, files, TLS, gRPC plumbing, flags)
  ['api'], // the mesh contract between the proxy and the control plane (generated from proto/)
  ['kube'], // the Kubernetes vocabulary and the one informer / cluster view
  ['store'], // the embedded API's SQLite store
  ['apiserver'], // the embedded Kubernetes-compatible API
  // The runtime components and the libraries of the CLI's commands.
  ['identity', 'destination', 'policy', 'controllers', 'viz', 'inject', 'workload', 'proxy', 'proxy-init'],
  ['injector', 'install', 'explain'], // built from the components above (webhook, manifests, diagnosis)
  ['controlplane'], // `outpost up`: starts the API server and the components in one process
  ['demo'],
  ['cli'], // the `outpost` command: every process's entry point
];

/** The proxy's own folder and the only folders it may import: it ships to every workload, alone. */
export const PROXY = 'proxy';
export const PROXY_MAY_IMPORT = ['proxy', 'core', 'api'];

/** Folders that are not the control plane (every other folder of src/ is). */
export const NOT_CONTROL_PLANE = ['proxy', 'proxy-init', 'cli', 'demo'];

/** Only these folders import src/apiserver or src/store. */
export const API_SERVER_OWNERS = ['controlplane'];
/** Imports of src/apiserver or src/store allowed elsewhere: { from: folder, to: path under src/, why }. */
export const API_SERVER_ALLOWANCES = [
  { from: 'apiserver', to: 'store', why: 'the embedded API server is built on its store' },
  { from: 'install', to: 'apiserver/resources', why: "the CRDs are generated from the embedded API's resource descriptors, so both validate alike" },
];

/** The config modules: the only files of src/ that read process.env, each with what it reads. */
export const ENV_READERS = [
  { file: 'src/proxy/config.ts', why: "the proxy's one configuration module" },
  { file: 'src/controlplane/flags.ts', why: "the control plane's typed flags (each flag's environment variable)" },
  { file: 'src/cli/kube-context.ts', why: "the CLI's kubeconfig: $KUBECONFIG, as kubectl reads it" },
  { file: 'src/core/files.ts', why: 'the default data dir ($OUTPOST_DATA_DIR), the flags of every command default to it' },
  { file: 'src/core/packaged.ts', why: "where the packaged executable extracts its assets ($OUTPOST_ASSET_DIR, systemd's $RUNTIME_DIRECTORY)" },
  // Process plumbing rather than configuration: an environment handed to a child process.
  { file: 'src/proxy/handover.ts', why: 'restart by socket handover tells the successor process who hands over (ADR 0021), and systemd $NOTIFY_SOCKET' },
  { file: 'src/workload/binary.ts', why: 'runs an outpost binary with the environment of the caller' },
  { file: 'src/cli/cli.ts', why: "$OUTPOST_DEBUG at the CLI's entry: print the stack of an unexpected error" },
];

/** Files of src/ allowed to load one of Node's private modules (_http_common …), each with the ADR that allows it. */
export const NODE_PRIVATE_MODULE_USERS = [
  { file: 'src/proxy/http1/llhttp.ts', module: '_http_common', adr: 'docs/adr/0027-http1-relay-on-node-llhttp.md' },
];
