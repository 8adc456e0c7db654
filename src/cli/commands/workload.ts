// `outpost workload`: not built yet (see README "Status").
import { OutpostError } from '../../core/errors.js';

export async function run(_argv: string[]): Promise<number> {
  throw new OutpostError('NOT_IMPLEMENTED', '`outpost workload` is not built yet');
}
