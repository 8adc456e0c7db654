// `outpost explain externalworkload/NAME -n NS [-o json]`: one screen that answers "why is there no
// traffic?" (src/explain). Reads the API through the CLI's kubeconfig resolution (kube-context.ts).
import { OutpostError } from '../../core/errors.js';
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { explainWorkload } from '../../explain/explain.js';
import { gatherFacts } from '../../explain/gather.js';
import { explanationJson, renderExplanation } from '../../explain/render.js';
import { KUBE_FLAGS, MESH_SETTINGS_FLAGS, loadKubeConfig, meshSettings } from '../kube-context.js';

const FLAGS = {
  ...KUBE_FLAGS,
  namespace: { type: 'string', short: 'n', default: 'default', help: 'namespace of the workload' },
  output: { type: 'string', short: 'o', default: 'text', help: 'text or json' },
  ...MESH_SETTINGS_FLAGS,
} satisfies FlagSpecs;

const USAGE = 'Usage: outpost explain externalworkload/NAME -n NAMESPACE [-o text|json]   (also ew/NAME)';
const KINDS = ['externalworkload', 'externalworkloads', 'ew'];

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals, help } = parseFlags(argv, FLAGS);
  if (help) {
    console.log(`${USAGE}\n\nExplains enrolment, certificate, heartbeat and probes, Services and EndpointSlices,\nthe inbound policy of each port, and how to check capture on the VM.\n\nFlags:\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  if (flags.output !== 'text' && flags.output !== 'json') throw new OutpostError('INVALID_ARGUMENT', `--output: expected text or json, got "${flags.output}"`, { field: 'output' });
  if (positionals.length !== 1) throw new OutpostError('INVALID_ARGUMENT', `expected one workload, got ${positionals.length}\n${USAGE}`);
  const m = /^([a-z.]+)\/(.+)$/.exec(positionals[0]);
  const kind = m?.[1].split('.')[0];
  if (!m || !kind || !KINDS.includes(kind)) throw new OutpostError('INVALID_ARGUMENT', `expected externalworkload/NAME, got "${positionals[0]}"\n${USAGE}`);
  const name = m[2];
  const namespace = flags.namespace;
  const { kc, path } = loadKubeConfig(flags);
  const settings = meshSettings(flags, path);
  const facts = await gatherFacts(kc, { namespace, name, clusterDefault: settings.defaultInboundPolicy, trustDomain: settings.trustDomain, now: Date.now });
  if (!facts) {
    console.error(`externalworkload ${namespace}/${name} not found`);
    return 1;
  }
  const explanation = explainWorkload(facts);
  console.log(flags.output === 'json' ? explanationJson(explanation) : renderExplanation(explanation).join('\n'));
  return 0;
}
