#!/usr/bin/env bash
# The proxy's performance goals, measured: runs the team's anchors harness (run.sh: haproxy, stunnel and
# plain-Node mTLS sidecar pairs, wrk/h2load, nginx) with the Outpost setups of extra-setups.sh in the same
# run, prints the anchors' tables, then each goal as the measured ratio vs the same-run anchor and PASS/MISS.
#   npm run build && bench/proxy/goals.sh                  # REPS=3 by default, about 11 minutes
#   REPS=1 DUR=3 LATDUR=2 bench/proxy/goals.sh             # a quick look (direction only)
#   bench/proxy/goals.sh --report RAW.jsonl                # only the goals, from an earlier run's raw file
# Env: OUTPOST_ANCHORS_RUN  path of the harness' run.sh (kept outside this repository; default below)
#      SETUPS             anchors to run (default: direct haproxy-http haproxy-tcp node-pipe)
#      RUN, OUT           the harness' runtime and results folders (default: a fresh folder under /tmp)
#      REPS DUR LATDUR ... passed through to run.sh; OUTPOST_NODE_FLAGS to extra-setups.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
report() { (cd "$ROOT" && node --import tsx bench/proxy/goals-report.ts "$1"); }

if [ "${1:-}" = --report ]; then
  [ -f "${2:-}" ] || { echo "goals.sh --report: no such raw file: '${2:-}'" >&2; exit 2; }
  report "$2"
  exit 0
fi

ANCHORS_RUN=${OUTPOST_ANCHORS_RUN:-/work/shared/bench/anchors/run.sh}
if [ ! -x "$ANCHORS_RUN" ]; then
  echo "goals.sh: the anchors harness was not found at $ANCHORS_RUN (or is not executable);" >&2
  echo "          set OUTPOST_ANCHORS_RUN=/path/to/anchors/run.sh" >&2
  exit 2
fi
[ -f "$ROOT/dist/cli/main.js" ] || { echo "goals.sh: build Outpost first: (cd $ROOT && npm run build)" >&2; exit 2; }

STAMP=$(date +%Y%m%d-%H%M%S)
export RUN=${RUN:-/tmp/outpost-goals-$STAMP/run} OUT=${OUT:-/tmp/outpost-goals-$STAMP/out}
export SETUPS=${SETUPS:-"direct haproxy-http haproxy-tcp node-pipe"}
export EXTRA_SETUPS="outpost-http outpost-tcp" EXTRA_SETUPS_FILE="$HERE/extra-setups.sh" OUTPOST_ROOT="$ROOT"
export REPS=${REPS:-3}
mkdir -p "$OUT"
echo "goals.sh: $ANCHORS_RUN with SETUPS=\"$SETUPS\" EXTRA_SETUPS=\"$EXTRA_SETUPS\" REPS=$REPS; results in $OUT" >&2
echo "goals.sh: load average before the start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
before=$(ls "$OUT"/raw-*.jsonl 2>/dev/null || true)
"$ANCHORS_RUN"
raw=$(ls -t "$OUT"/raw-*.jsonl | head -1)
[ -n "$raw" ] && ! grep -qx "$raw" <<<"$before" || { echo "goals.sh: run.sh wrote no new raw file in $OUT" >&2; exit 1; }
echo
echo "## Goals (same run; raw: $raw)"
echo
report "$raw" | tee "$OUT/goals-$STAMP.md"
