#!/usr/bin/env bash
# The real-Kubernetes test bench: etcd, kube-apiserver and kube-controller-manager built from Go
# modules (test/fixtures/real-kubernetes/*/go.mod) into a cache outside the repository, started on
# loopback with certificates generated per run.
#
#   bash scripts/real-kubernetes.sh build       build the binaries if the cache lacks them
#   bash scripts/real-kubernetes.sh bin         print the directory holding the binaries
#   bash scripts/real-kubernetes.sh up DIR      start etcd + kube-apiserver + kube-controller-manager,
#                                               write DIR/kubeconfig (admin, full TLS verification)
#   bash scripts/real-kubernetes.sh down DIR    stop exactly the processes `up DIR` started
#
# Environment: OUTPOST_KUBE_CACHE (default ~/.cache/outpost/real-kubernetes),
# KUBE_APISERVER_EXTRA_ARGS (extra kube-apiserver flags, e.g. --etcd-compaction-interval=10s),
# SERVICE_CIDR (default 198.19.252.0/22: inside the benchmarking range, so no address the bench
# hands out is one a test could reach by mistake, and outside the /24s the netns test hosts use).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FIXTURES="$ROOT/test/fixtures/real-kubernetes"
CACHE="${OUTPOST_KUBE_CACHE:-$HOME/.cache/outpost/real-kubernetes}"
# The cache key is the content of the wrapper modules: a changed pin builds a new set of binaries.
KUBE_VERSION=v1.34.4
# Version stamps the release build sets (hack/lib/version.sh); without them the binaries report
# v0.0.0, which kubectl cannot parse and which changes the API server's emulated version.
KUBE_LDFLAGS=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  KUBE_LDFLAGS+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=34"
  KUBE_LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
KEY="$(echo "$KUBE_LDFLAGS" | cat - "$FIXTURES"/etcd/go.mod "$FIXTURES"/etcd/go.sum "$FIXTURES"/etcd/main.go \
  "$FIXTURES"/kubernetes/go.mod "$FIXTURES"/kubernetes/go.sum | sha256sum | cut -c1-16)"
BIN="$CACHE/$KEY/bin"
SERVICE_CIDR="${SERVICE_CIDR:-198.19.252.0/22}"

say() { printf '[real-kubernetes] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Runs a build step in the background, printing a heartbeat every 30 s so a long cold build shows
# progress instead of silence.
build_step() {
  local what="$1"; shift
  local log="$CACHE/$KEY/build-$(echo "$what" | tr ' /' '__').log"
  local start=$SECONDS
  say "building $what ..."
  ( "$@" ) >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if (( (SECONDS - start) % 30 < 5 )) && kill -0 "$pid" 2>/dev/null; then
      say "  still building $what ($((SECONDS - start)) s)"
    fi
  done
  if ! wait "$pid"; then
    tail -n 30 "$log" >&2
    die "building $what failed (full log: $log)"
  fi
  say "built $what in $((SECONDS - start)) s"
}

cmd_build() {
  command -v go >/dev/null || die "Go is required to build the real-Kubernetes bench (polyglot machines have Go 1.26)"
  mkdir -p "$BIN"
  if [ ! -x "$BIN/etcd" ]; then
    build_step "etcd (go.etcd.io/etcd/server/v3; about 1 min)" \
      bash -c "cd '$FIXTURES/etcd' && go build -mod=readonly -trimpath -o '$BIN/etcd.tmp' . && mv '$BIN/etcd.tmp' '$BIN/etcd'"
  fi
  if [ ! -x "$BIN/kube-apiserver" ] || [ ! -x "$BIN/kube-controller-manager" ]; then
    build_step "kube-apiserver and kube-controller-manager $KUBE_VERSION (k8s.io/kubernetes; cold about 6-8 min on 2 cores)" \
      bash -c "cd '$FIXTURES/kubernetes' && mkdir -p '$BIN/tmp' && go build -mod=readonly -trimpath -ldflags '$KUBE_LDFLAGS' -o '$BIN/tmp/' \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
        && mv '$BIN/tmp/kube-apiserver' '$BIN/tmp/kube-controller-manager' '$BIN/' && rmdir '$BIN/tmp'"
  fi
  say "binaries ready in $BIN"
}

need_binaries() {
  for b in etcd kube-apiserver kube-controller-manager; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is not built; run: bash scripts/real-kubernetes.sh build"
  done
}

free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]); const servers = []; const ports = [];
    (async () => {
      for (let i = 0; i < n; i++) {
        const s = net.createServer(); servers.push(s);
        await new Promise((r) => s.listen(0, "127.0.0.1", r));
        ports.push(s.address().port);
      }
      servers.forEach((s) => s.close());
      console.log(ports.join(" "));
    })();' "$1"
}

# A certificate signed by DIR/ca: name, subject, extensions.
issue_cert() {
  local dir="$1" name="$2" subj="$3" ext="$4"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$name.key" \
    -subj "$subj" -out "$dir/$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -sha256 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
  chmod 600 "$dir/$name.key"
}

write_kubeconfig() {
  local file="$1" server="$2" ca="$3" cert="$4" key="$5" user="$6"
  umask 077
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: real-kubernetes
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$ca")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$cert")
    client-key-data: $(base64 -w0 "$key")
contexts:
- name: $user@real-kubernetes
  context: {cluster: real-kubernetes, user: $user}
current-context: $user@real-kubernetes
EOF
}

start_process() {
  local dir="$1" name="$2"; shift 2
  # setsid: its own process group, so `down` can stop it with everything it started.
  setsid "$@" >"$dir/$name.log" 2>&1 < /dev/null &
  echo $! >"$dir/$name.pid"
}

wait_ready() {
  local what="$1" url="$2" dir="$3" seconds="$4"; shift 4
  local start=$SECONDS
  until curl -fsS --max-time 2 "$@" "$url" >/dev/null 2>&1; do
    if (( SECONDS - start > seconds )); then
      tail -n 20 "$dir/$what.log" >&2 || true
      die "$what did not become ready within $seconds s (log: $dir/$what.log)"
    fi
    local pid; pid="$(cat "$dir/$what.pid")"
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/$what.log" >&2; die "$what exited (log: $dir/$what.log)"; }
    sleep 0.3
  done
}

cmd_up() {
  local dir="${1:?usage: real-kubernetes.sh up DIR}"
  need_binaries
  mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
  [ -f "$dir/kube-apiserver.pid" ] && kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null \
    && die "a bench is already running in $dir (run: bash scripts/real-kubernetes.sh down $dir)"
  chmod 700 "$dir"
  local start=$SECONDS
  read -r etcd_client etcd_peer api_port kcm_port < <(free_ports 4)

  # PKI: one CA for serving and client certificates, a key pair for ServiceAccount tokens.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
    -subj "/CN=outpost-real-kubernetes-ca" -days 2 -out "$dir/ca.crt" 2>/dev/null
  chmod 600 "$dir/ca.key"
  issue_cert "$dir" apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth"
  issue_cert "$dir" admin "/O=system:masters/CN=outpost-bench-admin" "extendedKeyUsage=clientAuth"
  issue_cert "$dir" controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  chmod 600 "$dir/sa.key"

  say "starting etcd on 127.0.0.1:$etcd_client"
  start_process "$dir" etcd "$BIN/etcd" --name bench --data-dir "$dir/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "bench=http://127.0.0.1:$etcd_peer" --log-level warn --quota-backend-bytes 4294967296
  wait_ready etcd "http://127.0.0.1:$etcd_client/health" "$dir" 30

  say "starting kube-apiserver on https://127.0.0.1:$api_port"
  # shellcheck disable=SC2086
  start_process "$dir" kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_client" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$dir/apiserver.crt" --tls-private-key-file "$dir/apiserver.key" \
    --client-ca-file "$dir/ca.crt" \
    --service-account-key-file "$dir/sa.pub" --service-account-signing-key-file "$dir/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --authorization-mode RBAC --service-cluster-ip-range "$SERVICE_CIDR" \
    --allow-privileged=true --profiling=false --cert-dir "$dir/apiserver-certs" --v 1 \
    ${KUBE_APISERVER_EXTRA_ARGS:-}
  wait_ready kube-apiserver "https://127.0.0.1:$api_port/readyz" "$dir" 90 \
    --cacert "$dir/ca.crt" --cert "$dir/admin.crt" --key "$dir/admin.key"

  write_kubeconfig "$dir/kubeconfig" "https://127.0.0.1:$api_port" "$dir/ca.crt" "$dir/admin.crt" "$dir/admin.key" admin
  write_kubeconfig "$dir/controller-manager.kubeconfig" "https://127.0.0.1:$api_port" "$dir/ca.crt" \
    "$dir/controller-manager.crt" "$dir/controller-manager.key" controller-manager

  say "starting kube-controller-manager"
  start_process "$dir" kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$dir/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$dir/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$dir/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" \
    --service-account-private-key-file "$dir/sa.key" --root-ca-file "$dir/ca.crt" \
    --use-service-account-credentials=true --leader-elect=false \
    --service-cluster-ip-range "$SERVICE_CIDR" --cert-dir "$dir/controller-manager-certs" --v 1
  wait_ready kube-controller-manager "https://127.0.0.1:$kcm_port/healthz" "$dir" 60 -k

  cat >"$dir/env" <<EOF
KUBECONFIG=$dir/kubeconfig
API_SERVER=https://127.0.0.1:$api_port
ETCD=http://127.0.0.1:$etcd_client
SERVICE_CIDR=$SERVICE_CIDR
SA_ISSUER=https://kubernetes.default.svc.cluster.local
EOF
  say "ready in $((SECONDS - start)) s: KUBECONFIG=$dir/kubeconfig"
  echo "$dir/kubeconfig"
}

stop_one() {
  local dir="$1" name="$2"
  local pidfile="$dir/$name.pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid="$(cat "$pidfile")"
  # Only a process started by this bench for this DIR (a reused pid is left alone).
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$BIN_PATTERN"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

cmd_down() {
  local dir="${1:?usage: real-kubernetes.sh down DIR}"
  [ -d "$dir" ] || die "$dir does not exist"
  dir="$(cd "$dir" && pwd)"
  BIN_PATTERN="$CACHE/"
  for name in kube-controller-manager kube-apiserver etcd; do stop_one "$dir" "$name"; done
  say "stopped the bench in $dir"
}

case "${1:-}" in
  build) cmd_build ;;
  bin) echo "$BIN" ;;
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  *) echo "usage: bash scripts/real-kubernetes.sh build | bin | up DIR | down DIR" >&2; exit 2 ;;
esac
