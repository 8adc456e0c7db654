// `outpost uninject`: the inverse of `outpost inject` (see inject.ts).
import { runTransform } from './inject.js';

export async function run(argv: string[]): Promise<number> {
  return runTransform('uninject', argv);
}
