// The packaged executable's entry (bundled as CommonJS, which has no top-level await): see cli.ts
// and docs/packaging.md. Node passes the executable's own path as argv[1], like a script's.
import { exitQuietlyOnBrokenPipe, main } from './cli.js';

exitQuietlyOnBrokenPipe(process.stdout);
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
