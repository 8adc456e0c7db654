// `outpost injector webhook-config --url URL`: prints the MutatingWebhookConfiguration that sends
// pod creations to an injector outside the cluster (`outpost up --kubeconfig --injector` on a host
// the API server reaches), trusting the mesh's trust anchors. Apply it with kubectl.
import { stringify } from 'yaml';
import { OutpostError } from '../../core/errors.js';
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { defaultDataDir } from '../../core/files.js';
import { renderWebhookConfiguration } from '../../injector/webhook-config.js';
import { INJECT_PATH } from '../../injector/server.js';
import { localTrustAnchors } from '../trust-anchors.js';

const FLAGS = {
  url: { type: 'string', help: `the injector's address as the API server reaches it, https://HOST:PORT${INJECT_PATH}` },
  'failure-policy': { type: 'string', default: 'Ignore', help: 'Ignore (pods are created without a proxy when the injector cannot answer) or Fail (they are refused)' },
  'trust-anchors': { type: 'string', help: "PEM trust anchors that signed the injector's certificate (default: the control plane's, from DATA_DIR)" },
  'data-dir': { type: 'string', default: defaultDataDir(), help: "the control plane's data dir" },
} satisfies FlagSpecs;

const USAGE = 'Usage: outpost injector webhook-config --url https://HOST:PORT/inject [--failure-policy Ignore|Fail] | kubectl apply -f -';

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(`${USAGE}\n\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  if (sub !== 'webhook-config') throw new OutpostError('INVALID_ARGUMENT', `unknown subcommand "${sub}" (expected webhook-config)`);
  const { flags, help } = parseFlags(rest, FLAGS);
  if (help) {
    console.log(`${USAGE}\n\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  if (!flags.url) throw new OutpostError('INVALID_ARGUMENT', `--url: required, the injector's https://HOST:PORT${INJECT_PATH} as the API server reaches it`);
  let url: URL;
  try {
    url = new URL(flags.url);
  } catch {
    throw new OutpostError('INVALID_ARGUMENT', `--url: "${flags.url}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw new OutpostError('INVALID_ARGUMENT', `--url: "${flags.url}" must be https:// (the API server only calls webhooks over TLS)`);
  if (url.pathname !== INJECT_PATH) throw new OutpostError('INVALID_ARGUMENT', `--url: the injector serves ${INJECT_PATH}, got path "${url.pathname}"`);
  const policy = flags['failure-policy'];
  if (policy !== 'Ignore' && policy !== 'Fail') throw new OutpostError('INVALID_ARGUMENT', `--failure-policy: must be Ignore or Fail, got "${policy}"`);
  const trustAnchorsPem = localTrustAnchors(flags);
  process.stdout.write(stringify(renderWebhookConfiguration({ trustAnchorsPem, failurePolicy: policy, url: url.toString() }), { lineWidth: 0 }));
  return 0;
}
