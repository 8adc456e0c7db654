// Loaded by `npm run test:unit` (scripts/unit-tests.ts) into every test process: a unit test that
// starts a child process fails at once, naming the command, instead of slowing the run down.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const STARTERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

for (const name of STARTERS) {
  (childProcess as unknown as Record<string, unknown>)[name] = (command: string) => {
    throw new Error(
      `test:unit runs only pure tests, and this one started a process (child_process.${name} ${command}): it is not a unit test. ` +
        'It runs in `npm test`; scripts/unit-tests.ts tells which files are pure (`npm run test:unit -- --list`).',
    );
  };
}
syncBuiltinESMExports();
