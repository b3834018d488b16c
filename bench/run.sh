#!/bin/bash
# make bench: ours against the reference, side by side, in network
# namespaces (see bench/main.go for what is measured and how).
#
#   sudo make bench                      # everything (about 12 minutes)
#   sudo BENCH_QUICK=1 make bench        # fewer sizes and runs (about 1.5 minutes)
#   sudo make bench BENCH_ARGS='-only quick,wg -runs 5'
#
# ^C (SIGINT, SIGTERM) removes the hosts and still prints the table of the
# rows measured so far (and writes bin/bench.md), with a note saying where
# the run was cut.
#
# It builds our wg and wg-quick (make build), the driver (bin/wgbench), an
# empty Go program (bin/gostart: the Go runtime's start cost), and the
# newest wireguard-go, standalone, from the module version in our go.mod
# (go install golang.zx2c4.com/wireguard@VERSION, cached under
# $BENCH_CACHE, default ~/.cache/wgtools-bench). The table goes to stdout
# and to bin/bench.md; progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
export CGO_ENABLED=0

die() { echo "bench: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root: the runs happen in network namespaces (sudo make bench)"
for tool in ip unshare nsenter iperf3 /usr/bin/wg /usr/bin/wg-quick /usr/bin/wireguard-go; do
	command -v "$tool" >/dev/null || die "needs $tool (Debian packages: iproute2 util-linux iperf3 wireguard-tools wireguard-go)"
done

# Namespaces left by a driver that was killed (SIGKILL) before it could
# remove them: the hosts are named wgperf-PID-N after the driver's PID.
for ns in $(ip netns list | awk '$1 ~ /^wgperf-[0-9]+-[0-9]+$/ {print $1}'); do
	pid=${ns#wgperf-}; pid=${pid%%-*}
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "bench: removing $ns, left by an earlier run" >&2
		for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null || true; done
		ip netns del "$ns" || true
	fi
done

mkdir -p bin
$GO build -trimpath -o bin/wgbench ./bench
$GO build -trimpath -ldflags '-s -w' -o bin/gostart ./bench/gostart

version=$($GO list -m -f '{{.Version}}' golang.zx2c4.com/wireguard)
cache=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wgtools-bench}
newest=$cache/wireguard-go-$version/wireguard
if [[ ! -x $newest ]]; then
	echo "bench: building wireguard-go $version standalone into $(dirname "$newest")" >&2
	mkdir -p "$(dirname "$newest")"
	GOBIN=$(dirname "$newest") GOFLAGS=-trimpath $GO install "golang.zx2c4.com/wireguard@$version"
fi

# shellcheck disable=SC2086 # BENCH_ARGS is split on purpose
exec bin/wgbench -bin bin -newest "$newest" -o bin/bench.md ${BENCH_ARGS:-} "$@"
