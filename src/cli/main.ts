// The `outpost` command run from source (tsx) or from dist/ (bin/outpost.js): see cli.ts.
import { exitQuietlyOnBrokenPipe, main } from './cli.js';

exitQuietlyOnBrokenPipe(process.stdout);
process.exitCode = await main(process.argv.slice(2));
