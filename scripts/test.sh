#!/usr/bin/env bash
# The README's test command (`npm ci && npm test`) runs this: installs the Debian packages tests
# need, builds the real-Kubernetes bench when its cache lacks it, typechecks, lints, builds dist/ and
# dist-package/ (when stale), then runs every test with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v openssl >/dev/null || need+=(openssl)
command -v ip >/dev/null || need+=(iproute2)
command -v iptables >/dev/null || need+=(iptables)
command -v ip6tables >/dev/null || need+=(iptables)
command -v pg_ctlcluster >/dev/null || need+=(postgresql postgresql-contrib)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v prometheus >/dev/null || need+=(prometheus)
command -v psql >/dev/null || need+=(postgresql-client)
command -v curl >/dev/null || need+=(curl)
command -v debootstrap >/dev/null || need+=(debootstrap)   # the bare-VM test's Debian root
command -v rpmbuild >/dev/null || need+=(rpm)              # npm run package: the .rpm
command -v systemd-analyze >/dev/null || need+=(systemd)   # the bare-VM test verifies the unit
/usr/bin/python3 -c 'import kubernetes' 2>/dev/null || need+=(python3-kubernetes)  # the Python client's watch test
command -v kubectl >/dev/null || { echo "kubectl is required (v1.32 is preinstalled on Outpost dev machines)" >&2; exit 1; }
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing packages (install as root): ${need[*]}" >&2; exit 1
  fi
fi

# The real-Kubernetes bench (etcd, kube-apiserver, kube-controller-manager from Go modules): built
# once into ~/.cache/outpost/real-kubernetes, reused while the pins in test/fixtures/real-kubernetes
# are unchanged. A cold build takes about 7 minutes on 2 cores and prints progress.
echo "== real-Kubernetes bench"; bash scripts/real-kubernetes.sh build
# The go-spiffe client the SPIFFE Workload API tests run (cached like the bench; about a minute cold).
echo "== go-spiffe client"; bash scripts/spiffe-client.sh build >/dev/null

echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint .
echo "== build"; npx tsc -p tsconfig.build.json
# The packaged executable and packages the test/package tests run (skipped when dist-package/ is up to date).
echo "== package"; node --import tsx scripts/package/build.ts --if-stale
echo "== tests"
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-reporter=spec "${files[@]}"
