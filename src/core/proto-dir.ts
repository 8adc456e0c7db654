// The directory holding outpost/*.proto and spiffe/workload.proto: the repository's proto/ (found upwards from this module, so
// src/ under tsx and dist/ after a build both work), or the packaged executable's extracted assets.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPackaged, packagedAssetDir } from './packaged.js';

let found: string | undefined;

export function protoDir(): string {
  if (found) return found;
  if (isPackaged()) return (found = join(packagedAssetDir(), 'proto'));
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const up of ['..', '../..', '../../..']) {
    const dir = join(here, up, 'proto');
    if (existsSync(join(dir, 'outpost', 'destination.proto'))) return (found = dir);
  }
  throw new Error(`proto/outpost/*.proto not found above ${here}`);
}
