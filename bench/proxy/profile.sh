#!/usr/bin/env bash
# Where the proxies' CPU goes per HTTP request: the Outpost pair (or the anchors' plain Node TLS pipe) under
# wrk keep-alive load against nginx, both processes sampled by `perf record -e cpu-clock` (CPU time, not wall
# time: on a shared machine a wall-clock profiler charges the time a process waits for a core to whatever it
# was doing), then each proxy's samples as shares by category (bench/proxy/profile-report.ts).
#   npm run build && bench/proxy/profile.sh            # http (default) | tcp | pipe
# Also prints, from /proc, CPU µs per request for the pair, read/write syscalls per request and RSS.
# Needs perf, wrk, nginx and the anchors harness folder (OUTPOST_ANCHORS_RUN's, for its certificates and
# tls-pipe.js). Uses ports 18031-18183 and 18080 only, so it can run next to the harness.
set -euo pipefail
MODE=${1:-http}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ANCHORS=$(dirname "${OUTPOST_ANCHORS_RUN:-/work/shared/bench/anchors/run.sh}")
[ -x "$ANCHORS/gen-certs.sh" ] || { echo "profile.sh: the anchors harness was not found in $ANCHORS; set OUTPOST_ANCHORS_RUN=/path/to/anchors/run.sh" >&2; exit 2; }
for b in perf wrk nginx; do command -v $b >/dev/null || { echo "profile.sh: $b is not installed" >&2; exit 2; }; done
D=${PROFILE_DIR:-$(mktemp -d /tmp/outpost-profile-XXXX)}; mkdir -p "$D"/{certs,tmp}
SECS=${SECS:-4}
FLAGS="${OUTPOST_NODE_FLAGS---max-semi-space-size=2} --perf-basic-prof-only-functions"
"$ANCHORS/gen-certs.sh" "$D/certs" >/dev/null 2>&1
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
cat > "$D/nginx.conf" <<EOF
worker_processes 1; daemon off; pid $D/nginx.pid; error_log $D/nginx-error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000; client_body_temp_path $D/tmp; proxy_temp_path $D/tmp;
  fastcgi_temp_path $D/tmp; uwsgi_temp_path $D/tmp; scgi_temp_path $D/tmp;
  server { listen 127.0.0.1:18080; location / { default_type text/plain; return 200 "hello from backend\n"; } } }
EOF
nginx -p "$D" -c "$D/nginx.conf" & PIDS+=($!)
conf() { # conf ROLE BASE PROTOCOL -> config file
  local f="$D/$1.yaml" id=client; [ "$1" = server ] && id=server
  { echo "admin: {port: $2}"; echo "outbound: {port: $(($2 + 2))}"; echo "tap: {port: $(($2 + 3)), address: 127.0.0.1}"
    echo "identity: {trustAnchors: $D/certs/ca.pem, certFile: $D/certs/$id.crt, keyFile: $D/certs/$id.key}"; echo "log: {level: warn}"
    if [ "$1" = server ]; then echo "inbound: {port: 18052, address: 127.0.0.1}"
      echo "policy: {ports: [{port: 18080, protocol: $3, identities: ['spiffe://mesh.local/ns/default/sa/client']}]}"
    else echo "inbound: {port: $(($2 + 1)), address: 127.0.0.1}"
      echo "upstreams: [{name: 'nginx.bench:8080', listen: '127.0.0.1:18051', protocol: $3, endpoints: [{address: 127.0.0.1, port: 18080, inboundPort: 18052, identity: 'spiffe://mesh.local/ns/default/sa/server', serverName: server.mesh.local}]}]"
    fi; } > "$f"; echo "$f"; }
proto=detect; [ "$MODE" = tcp ] && proto=opaque
if [ "$MODE" = pipe ]; then
  node $FLAGS "$ANCHORS/node/tls-pipe.js" server 127.0.0.1:18052 127.0.0.1:18080 "$D/certs" & SP=$!
  node $FLAGS "$ANCHORS/node/tls-pipe.js" client 127.0.0.1:18051 127.0.0.1:18052 "$D/certs" & CP=$!
else
  node $FLAGS "$ROOT/bin/outpost.js" proxy --config "$(conf server 18150 $proto)" & SP=$!
  node $FLAGS "$ROOT/bin/outpost.js" proxy --config "$(conf client 18160 $proto)" & CP=$!
fi
PIDS+=("$SP" "$CP")
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/18051) 2>/dev/null && break; sleep 0.1; done
sleep 0.5
idle="$(($(ps -o rss= -p $CP) / 1024)) + $(($(ps -o rss= -p $SP) / 1024)) MB"
wrk -t2 -c50 -d1s http://127.0.0.1:18051/ >/dev/null 2>&1 # warm-up
ticks() { local t=0 p f; for p in "$@"; do read -r -a f < /proc/$p/stat; t=$((t + f[13] + f[14])); done; echo $t; }
sysc() { awk '/^sysc[rw]/{printf "%s ", $2}' /proc/$1/io; }
c0=$(ticks $CP $SP); i0="$(sysc $CP)$(sysc $SP)"
perf record -q -e cpu-clock -F 2000 -g -p "$CP" -o "$D/client.data" -- sleep $((SECS - 1)) >/dev/null 2>&1 & R1=$!
perf record -q -e cpu-clock -F 2000 -g -p "$SP" -o "$D/server.data" -- sleep $((SECS - 1)) >/dev/null 2>&1 & R2=$!
wrk -t2 -c50 -d${SECS}s http://127.0.0.1:18051/ > "$D/wrk.txt" 2>&1
wait $R1 $R2 || true
c1=$(ticks $CP $SP); i1="$(sysc $CP)$(sysc $SP)"
loaded="$(($(ps -o rss= -p $CP) / 1024)) + $(($(ps -o rss= -p $SP) / 1024)) MB"
n=$(awk '/requests in/{print $1}' "$D/wrk.txt")
echo "$MODE pair (client + server), $(awk '/Requests\/sec/{print $2}' "$D/wrk.txt") req/s, load average $(cut -d' ' -f1 /proc/loadavg)"
awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$n" -v a="$i0" -v b="$i1" 'BEGIN{split(a,x," ");split(b,y," ");
  printf "CPU per request (pair): %.1f µs; syscalls per request: client %.2f reads %.2f writes, server %.2f reads %.2f writes\n", t*1e6/hz/n, (y[1]-x[1])/n, (y[2]-x[2])/n, (y[3]-x[3])/n, (y[4]-x[4])/n}'
echo "RSS idle $idle, after the load $loaded"
for side in client server; do
  perf script -i "$D/$side.data" -F ip,sym,dso 2>/dev/null > "$D/$side.stacks"
  (cd "$ROOT" && node --import tsx bench/proxy/profile-report.ts "$side" "$D/$side.stacks")
done
echo "(perf data and stacks in $D)"
