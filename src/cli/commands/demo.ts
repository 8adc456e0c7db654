// `outpost demo`: not built yet (see README "Status").
import { OutpostError } from '../../core/errors.js';

export async function run(_argv: string[]): Promise<number> {
  throw new OutpostError('NOT_IMPLEMENTED', '`outpost demo` is not built yet');
}
