// `outpost dashboard`: serves the viz dashboard on a local port (default 127.0.0.1:50750, like
// Linkerd's) and prints its URL; it stays up until interrupted.
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { findViz } from '../../viz/client.js';
import { startDashboardProxy } from '../../viz/dashboard-proxy.js';
import { KUBE_FLAGS, loadKubeConfig } from '../kube-context.js';

const FLAGS = {
  ...KUBE_FLAGS,
  port: { type: 'int', short: 'p', default: 50750, min: 0, max: 65535, help: 'local port of the dashboard (0 = any free port)' },
  address: { type: 'string', default: '127.0.0.1', help: 'local address of the dashboard' },
  'viz-url': { type: 'string', help: 'the viz API (default: the `viz` listener in DATA_DIR/control-plane.json)' },
} satisfies FlagSpecs;

export async function run(argv: string[]): Promise<number> {
  const { flags, help } = parseFlags(argv, FLAGS);
  if (help) {
    console.log(`Usage: outpost dashboard [--port 50750]\n\nServes the web dashboard (workloads, edges, charts, live tap) on a local port.\n\nFlags:\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  const { kc } = loadKubeConfig(flags);
  const viz = findViz(flags['data-dir'], kc, flags['viz-url']);
  const dash = await startDashboardProxy({ viz, host: flags.address, port: flags.port });
  console.log(`Outpost dashboard available at:\n${dash.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dash.close();
  return 0;
}
