#!/usr/bin/env bash
# The go-spiffe test client (test/fixtures/spiffe-client): a SPIFFE Workload API client written
# only with github.com/spiffe/go-spiffe/v2, built once into a cache outside the repository and
# reused while its go.mod, go.sum and main.go are unchanged.
#
#   bash scripts/spiffe-client.sh build   build the client if the cache lacks it; prints its path
#   bash scripts/spiffe-client.sh bin     print the client's path (fails when it is not built)
#
# Environment: OUTPOST_SPIFFE_CLIENT_CACHE (default ~/.cache/outpost/spiffe-client).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FIXTURE="$ROOT/test/fixtures/spiffe-client"
CACHE="${OUTPOST_SPIFFE_CLIENT_CACHE:-$HOME/.cache/outpost/spiffe-client}"
KEY="$(cat "$FIXTURE/go.mod" "$FIXTURE/go.sum" "$FIXTURE/main.go" | sha256sum | cut -c1-16)"
BIN="$CACHE/$KEY/spiffe-client"

say() { printf '[spiffe-client] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

case "${1:-}" in
  build)
    if [ ! -x "$BIN" ]; then
      command -v go >/dev/null || die "Go is required to build the go-spiffe test client (polyglot machines have Go 1.26)"
      mkdir -p "$CACHE/$KEY"
      say "building the go-spiffe client (cold: about a minute) ..."
      log="$CACHE/$KEY/build.log"
      if ! (cd "$FIXTURE" && go build -mod=readonly -trimpath -o "$BIN.tmp" .) >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "building the go-spiffe client failed (full log: $log)"
      fi
      mv "$BIN.tmp" "$BIN"
      say "built $BIN"
    fi
    echo "$BIN"
    ;;
  bin)
    [ -x "$BIN" ] || die "$BIN is not built; run: bash scripts/spiffe-client.sh build"
    echo "$BIN"
    ;;
  *)
    echo "usage: $0 build|bin" >&2; exit 64
    ;;
esac
