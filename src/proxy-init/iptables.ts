// Installs, checks and removes the capture plan with the real iptables or ip6tables binary (nat
// table). Idempotent: our chains are flushed and refilled; the jumps into them exist exactly once.
import { spawnSync } from 'node:child_process';
import { OutpostError } from '../core/errors.js';
import type { CapturePlan } from './plan.js';
import { CHAIN_INBOUND, CHAIN_OUTBOUND } from './plan.js';

export type Exec = (args: string[]) => { code: number; stdout: string; stderr: string };

export function iptablesExec(binary = 'iptables'): Exec {
  return (args) => {
    const r = spawnSync(binary, args, { encoding: 'utf8' });
    if (r.error) {
      throw new OutpostError('CONFIG_INVALID', `cannot run ${binary}: ${r.error.message}`, { hint: 'install iptables (apt-get install -y iptables) and run as root' });
    }
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
}

function must(exec: Exec, args: string[]): void {
  const r = exec(args);
  if (r.code !== 0) {
    const msg = r.stderr.trim() || `exit ${r.code}`;
    throw new OutpostError('CONFIG_INVALID', `iptables ${args.join(' ')}: ${msg}`, {
      hint: /Permission denied|not permitted/i.test(msg) ? 'run proxy-init as root (or with CAP_NET_ADMIN)' : undefined,
    });
  }
}

const chainExists = (exec: Exec, chain: string) => exec(['-t', 'nat', '-S', chain]).code === 0;
const ruleExists = (exec: Exec, chain: string, args: string[]) => exec(['-t', 'nat', '-C', chain, ...args]).code === 0;

export function install(exec: Exec, plan: CapturePlan): void {
  removeJumps(exec);
  for (const c of plan.chains) {
    if (!chainExists(exec, c.name)) must(exec, ['-t', 'nat', '-N', c.name]);
    must(exec, ['-t', 'nat', '-F', c.name]);
    for (const r of c.rules) must(exec, ['-t', 'nat', '-A', c.name, ...r]);
  }
  for (const j of plan.jumps) must(exec, ['-t', 'nat', '-A', j.from, ...j.args]);
}

/** Every rule of a built-in chain that jumps into one of ours, as `-S` prints it. */
function jumpsInto(exec: Exec, builtin: string, chain: string): string[] {
  return exec(['-t', 'nat', '-S', builtin]).stdout.split('\n').filter((line) => line.startsWith(`-A ${builtin} `) && line.includes(`-j ${chain}`));
}

const BUILTINS = [['PREROUTING', CHAIN_INBOUND], ['OUTPUT', CHAIN_OUTBOUND]] as const;

function removeJumps(exec: Exec): boolean {
  let removed = false;
  for (const [builtin, chain] of BUILTINS) {
    for (const line of jumpsInto(exec, builtin, chain)) {
      must(exec, ['-t', 'nat', '-D', ...splitRule(line.slice(3))]);
      removed = true;
    }
  }
  return removed;
}

/** Removes every trace of the capture, whatever options it was installed with. */
export function uninstall(exec: Exec): { removed: boolean } {
  let removed = removeJumps(exec);
  for (const [, chain] of BUILTINS) {
    if (chainExists(exec, chain)) {
      must(exec, ['-t', 'nat', '-F', chain]);
      must(exec, ['-t', 'nat', '-X', chain]);
      removed = true;
    }
  }
  return { removed };
}

/** Splits an `iptables -S` rule line into arguments, honouring double quotes. */
export function splitRule(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1] : m[2]));
}

/** Problems with the installed rules compared with the plan; empty when everything is in place. */
export function check(exec: Exec, plan: CapturePlan): string[] {
  const problems: string[] = [];
  for (const c of plan.chains) {
    if (!chainExists(exec, c.name)) {
      problems.push(`chain ${c.name} is missing`);
      continue;
    }
    for (const r of c.rules) if (!ruleExists(exec, c.name, r)) problems.push(`chain ${c.name} lacks rule: ${r.join(' ')}`);
    const count = exec(['-t', 'nat', '-S', c.name]).stdout.split('\n').filter((l) => l.startsWith('-A ')).length;
    if (count !== c.rules.length) problems.push(`chain ${c.name} has ${count} rules, expected ${c.rules.length}`);
  }
  for (const [builtin, chain] of BUILTINS) {
    const planned = plan.jumps.filter((j) => j.from === builtin && j.args.at(-1) === chain);
    for (const j of planned) if (!ruleExists(exec, j.from, j.args)) problems.push(`${j.from} lacks the jump: ${j.args.join(' ')}`);
    const n = jumpsInto(exec, builtin, chain).length;
    if (n !== planned.length) problems.push(`${builtin} jumps to ${chain} ${n} times, expected ${planned.length === 1 ? 'once' : `${planned.length} times`}`);
  }
  return problems;
}
