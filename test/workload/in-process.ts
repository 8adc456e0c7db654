// `outpost workload ARGS` run in the test's own process, as src/cli/cli.ts runs it (stdout collected,
// an error printed as the CLI prints it), so the workload suites stay fast; each suite still runs the
// real CLI once.
import { run as workloadCommand } from '../../src/cli/commands/workload.js';
import { describeError } from '../../src/core/errors.js';

export async function workloadInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { code: await workloadCommand(args), stdout: lines.join('\n'), stderr: '' };
  } catch (e) {
    return { code: 1, stdout: lines.join('\n'), stderr: `outpost workload: ${describeError(e)}\n` };
  } finally {
    console.log = log;
  }
}
