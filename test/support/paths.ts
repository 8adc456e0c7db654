// Where the repository is, for tests that read its files (fixtures, sources, configs).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
