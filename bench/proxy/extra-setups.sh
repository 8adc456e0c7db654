# Outpost setups for the mTLS sidecar-pair anchors (/work/shared/bench/anchors/run.sh, "ADDING A SETUP").
#   npm run build   # the proxies run the compiled CLI (bin/outpost.js), like users do
#   EXTRA_SETUPS_FILE=$PWD/bench/proxy/extra-setups.sh EXTRA_SETUPS="outpost-http outpost-tcp" "$ANCHORS"/run.sh
#   (bench/proxy/goals.sh does this and prints the goals as same-run ratios)
# outpost-http: the client proxy's upstream listener detects HTTP/1.1, balances per request and sends it over a
#   pooled keep-alive HTTP/1.1 mTLS connection to the server proxy (metrics, policy and balancing on).
# outpost-tcp: the same pair with the upstream marked opaque: one mTLS connection per client connection
#   (ALPN outpost.tcp/1 + transport header), resumed TLS sessions.
OUTPOST_ROOT=${OUTPOST_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OUTPOST_BIN="$OUTPOST_ROOT/bin/outpost.js"
# Node flags for the proxies, as recommended in docs/proxy.md (a small young generation: RSS under load
# drops from ~100 MB to ~75 MB without a measurable throughput cost). Set OUTPOST_NODE_FLAGS= to compare.
OUTPOST_NODE_FLAGS=${OUTPOST_NODE_FLAGS---max-semi-space-size=2}

outpost_conf() { # outpost_conf NAME ROLE(server|client) BASEPORT PROTOCOL CLIENT_PORT SERVER_PORT -> writes $RUN/conf/NAME.yaml
  local name=$1 role=$2 base=$3 proto=$4 cport=$5 sport=$6 f="$RUN/conf/$1.yaml"
  {
    echo "admin: {port: $base}"
    if [ "$role" = server ]; then echo "inbound: {port: $sport, address: 127.0.0.1}"; else echo "inbound: {port: $((base + 1)), address: 127.0.0.1}"; fi
    echo "outbound: {port: $((base + 2))}"
    echo "tap: {port: $((base + 3)), address: 127.0.0.1}"
    echo "identity: {trustAnchors: $RUN/certs/ca.pem, certFile: $RUN/certs/$role.crt, keyFile: $RUN/certs/$role.key}"
    echo "log: {level: warn}"
    if [ "$role" = client ]; then
      echo "upstreams:"
      echo "  - name: nginx.bench:8080"
      echo "    listen: 127.0.0.1:$cport"
      echo "    protocol: $proto"
      echo "    endpoints: [{address: 127.0.0.1, port: 8080, inboundPort: $sport, identity: 'spiffe://mesh.local/ns/default/sa/server', serverName: server.mesh.local}]"
    else
      echo "policy: {ports: [{port: 8080, protocol: $proto, identities: ['spiffe://mesh.local/ns/default/sa/client']}]}"
    fi
  } > "$f"
  echo "$f"
}

setup_outpost-http() {
  [ -f "$OUTPOST_ROOT/dist/cli/main.js" ] || { echo "build Outpost first: (cd $OUTPOST_ROOT && npm run build)" >&2; return 1; }
  local s c
  s=$(outpost_conf outpost-http-server server 10150 detect 10051 10052)
  c=$(outpost_conf outpost-http-client client 10160 detect 10051 10052)
  pair outpost-http 10051 10052 -- node $OUTPOST_NODE_FLAGS "$OUTPOST_BIN" proxy --config "$s" -- node $OUTPOST_NODE_FLAGS "$OUTPOST_BIN" proxy --config "$c"
}

setup_outpost-tcp() {
  [ -f "$OUTPOST_ROOT/dist/cli/main.js" ] || { echo "build Outpost first: (cd $OUTPOST_ROOT && npm run build)" >&2; return 1; }
  local s c
  s=$(outpost_conf outpost-tcp-server server 10170 opaque 10061 10062)
  c=$(outpost_conf outpost-tcp-client client 10180 opaque 10061 10062)
  pair outpost-tcp 10061 10062 -- node $OUTPOST_NODE_FLAGS "$OUTPOST_BIN" proxy --config "$s" -- node $OUTPOST_NODE_FLAGS "$OUTPOST_BIN" proxy --config "$c"
}
