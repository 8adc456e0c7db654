// `npm run test:unit`: runs the pure tests, in seconds. A test file is pure unless it, or a test
// helper it imports (followed through test/), imports node:child_process, or a harness that starts
// processes, network namespaces, a control plane or a real kube-apiserver (IMPURE_HELPERS). So a new
// pure test is found without being listed anywhere, and a test that starts a process is left out.
// The pure files run in one process (one start-up instead of one per file), each as a suite of its
// own so its hooks stay its own, with test/support/unit-guard.ts loaded: a test that starts a process
// anyway (through src/ code, say) fails, naming the command. Files that do so on purpose are in
// STARTS_PROCESSES_THROUGH_SRC. `npm run test:unit -- --list` prints the pure files and, for every
// other file, why it is not.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe } from 'node:test';
import ts from 'typescript';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TEST = join(REPO_ROOT, 'test');

/** Harnesses under test/support that start processes, network namespaces, control planes or a real kube-apiserver. */
export const IMPURE_HELPERS = ['test/support/cli.ts', 'test/support/netns.ts', 'test/support/control-plane.ts', 'test/support/real-kubernetes.ts'];
const IMPURE_MODULES = new Set(['child_process', 'node:child_process']);
/** Test files whose src/ code under test starts processes (exec probes), with why. */
export const STARTS_PROCESSES_THROUGH_SRC: Record<string, string> = {
  'test/proxy/probes/runner.test.ts': 'exec probes run commands',
  'test/proxy/probes/supervisor.test.ts': 'exec probes run commands',
};
/** Longer than this, a file's tests are not unit tests (the run fails them). */
export const UNIT_FILE_TIMEOUT_MS = 20_000;

const rel = (p: string) => relative(REPO_ROOT, p).split(sep).join('/');

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' ? [] : testFiles(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

/** The module a relative import names (`./x.js` is `./x.ts` in the sources). */
function resolveImport(from: string, spec: string): string {
  return resolve(dirname(from), spec).replace(/\.js$/, '.ts');
}

const reasons = new Map<string, string | undefined>();
/** Why `file` is not pure (the chain of imports that reaches the impure thing), or undefined. */
export function impurity(file: string, seen = new Set<string>()): string | undefined {
  if (reasons.has(file)) return reasons.get(file);
  if (seen.has(file)) return undefined;
  seen.add(file);
  let reason: string | undefined = STARTS_PROCESSES_THROUGH_SRC[rel(file)];
  if (reason) reason = `its code under test starts processes (${reason})`;
  else if (IMPURE_HELPERS.includes(rel(file))) reason = "a harness that starts processes, network namespaces, a control plane or kube-apiserver";
  else {
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (IMPURE_MODULES.has(fileName)) {
        reason = `imports ${fileName}`;
        break;
      }
      if (!fileName.startsWith('.')) continue;
      const target = resolveImport(file, fileName);
      if (!target.startsWith(TEST + sep)) continue; // src/ is what the tests exercise; the guard catches a process it starts
      const why = impurity(target, seen);
      if (why) {
        reason = `${rel(target)} -> ${why}`;
        break;
      }
    }
  }
  reasons.set(file, reason);
  return reason;
}

function main(argv: string[]): number {
  const all = testFiles(TEST).sort();
  const pure = all.filter((f) => !impurity(f));
  if (argv.includes('--list')) {
    for (const f of pure) console.log(`pure    ${rel(f)}`);
    for (const f of all.filter((x) => impurity(x))) console.log(`not     ${rel(f)}: ${impurity(f)}`);
    console.log(`${pure.length} of ${all.length} test files are pure`);
    return 0;
  }
  const started = Date.now();
  const args = ['--import', 'tsx', '--import', join(TEST, 'support', 'unit-guard.ts'), '--test-reporter=spec', ...argv.filter((a) => a.startsWith('--')), fileURLToPath(import.meta.url), '--in-process', ...pure.map(rel)];
  const status = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' }).status ?? 1;
  console.log(`test:unit: ${pure.length} pure test files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return status;
}

/** In the test process: each file a suite of its own (its top-level hooks apply to its tests only). */
function runInProcess(files: string[]): void {
  for (const file of files) describe(file, { timeout: UNIT_FILE_TIMEOUT_MS }, async () => void (await import(pathToFileURL(join(REPO_ROOT, file)).href)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--in-process') runInProcess(argv.slice(1));
  else process.exit(main(argv));
}
