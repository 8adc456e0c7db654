// What the e2e VMs have on their PATH: `outpost` (this checkout, run from source) and a small
// `systemctl` stand-in that runs an installed unit's ExecStart as its User= in the background,
// so the bundle's install.sh runs unchanged; `reload` sends SIGHUP like the unit's ExecReload.
// Pid and output of each unit go to a host directory.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths.js';

const OUTPOST_WRAPPER = (node: string, loader: string, main: string) => `#!/bin/sh
# outpost, from source (the e2e tests' stand-in for an installed binary)
exec ${node} --import ${loader} ${main} "$@"
`;

const SYSTEMCTL_STUB = `#!/bin/sh
# systemctl stand-in for the e2e VMs: start/stop/restart run the unit's ExecStart as its User=
# (setpriv) in the background; daemon-reload and enable do nothing. OUTPOST_E2E_UNITS: pid and log dir.
set -eu
UNITS="\${OUTPOST_E2E_UNITS:?}"
stop() {
  pidfile="$UNITS/$1.pid"
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}
start() {
  unit="/etc/systemd/system/$1"
  [ -f "$unit" ] || { echo "systemctl: unit $1 is not installed" >&2; exit 5; }
  cmd=$(sed -n 's/^ExecStart=//p' "$unit")
  user=$(sed -n 's/^User=//p' "$unit")
  cd /  # systemd's default WorkingDirectory for system units
  # shellcheck disable=SC2086
  setsid setpriv --reuid "$user" --regid "$user" --init-groups $cmd >>"$UNITS/$1.log" 2>&1 </dev/null &
  echo $! >"$UNITS/$1.pid"
}
# reload: SIGHUP, as the unit's ExecReload; the proxy's successor (its child) becomes the unit's pid.
reload() {
  pidfile="$UNITS/$1.pid"
  pid=$(cat "$pidfile")
  kill -HUP "$pid"
  i=0
  while [ "$i" -lt 100 ]; do
    child=$(pgrep -P "$pid" -n || true)
    if [ -n "$child" ]; then echo "$child" >"$pidfile"; return 0; fi
    sleep 0.1; i=$((i + 1))
  done
  echo "systemctl (e2e stand-in): no new process after reloading $1" >&2; exit 1
}
case "\${1:-}" in
  daemon-reload|enable) ;;
  reload) reload "$2" ;;
  start) start "$2" ;;
  stop) stop "$2" ;;
  restart) stop "$2"; start "$2" ;;
  *) echo "systemctl (e2e stand-in): unsupported: $*" >&2; exit 1 ;;
esac
`;

/** Writes bin/outpost and bin/systemctl under dir (world-readable: the proxy runs as its own user). Returns the bin dir. */
export function writeVmTools(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const loader = import.meta.resolve('tsx').replace(/^file:\/\//, '');
  writeFileSync(join(bin, 'outpost'), OUTPOST_WRAPPER(process.execPath, loader, join(REPO_ROOT, 'src', 'cli', 'main.ts')), { mode: 0o755 });
  writeSystemctlStandIn(bin);
  return bin;
}

/** Writes the systemctl stand-in alone into binDir (the bare-VM test puts it into a Debian root). */
export function writeSystemctlStandIn(binDir: string): void {
  writeFileSync(join(binDir, 'systemctl'), SYSTEMCTL_STUB, { mode: 0o755 });
}
