// Installs, checks and removes the capture plan with the real iptables binary (nat table).
// Idempotent: our chains are flushed and refilled; the jumps into them exist exactly once.
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
  for (const c of plan.chains) {
    if (!chainExists(exec, c.name)) must(exec, ['-t', 'nat', '-N', c.name]);
    must(exec, ['-t', 'nat', '-F', c.name]);
    for (const r of c.rules) must(exec, ['-t', 'nat', '-A', c.name, ...r]);
  }
  for (const j of plan.jumps) {
    removeAll(exec, j.from, j.args);
    must(exec, ['-t', 'nat', '-A', j.from, ...j.args]);
  }
}

function removeAll(exec: Exec, chain: string, args: string[]): void {
  for (let i = 0; i < 100 && ruleExists(exec, chain, args); i++) must(exec, ['-t', 'nat', '-D', chain, ...args]);
}

/** Removes every trace of the capture, whatever options it was installed with. */
export function uninstall(exec: Exec): { removed: boolean } {
  let removed = false;
  for (const [builtin, chain] of [['PREROUTING', CHAIN_INBOUND], ['OUTPUT', CHAIN_OUTBOUND]] as const) {
    const listing = exec(['-t', 'nat', '-S', builtin]);
    for (const line of listing.stdout.split('\n')) {
      if (line.startsWith(`-A ${builtin} `) && line.includes(`-j ${chain}`)) {
        must(exec, ['-t', 'nat', '-D', ...splitRule(line.slice(3))]);
        removed = true;
      }
    }
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
  for (const j of plan.jumps) {
    const listing = exec(['-t', 'nat', '-S', j.from]).stdout.split('\n');
    const target = j.args[j.args.length - 1];
    const n = listing.filter((l) => l.startsWith(`-A ${j.from} `) && l.includes(`-j ${target}`)).length;
    if (n !== 1) problems.push(`${j.from} jumps to ${target} ${n} times, expected once`);
  }
  return problems;
}
