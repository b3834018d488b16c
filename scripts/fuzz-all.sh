#!/bin/sh
# Runs every Go fuzz target in the module for the given time each (e.g. 5s,
# 1m). A crash leaves its input under the package's testdata/fuzz/, where it
# becomes a regression case of the ordinary tests.
set -eu
time=${1:-10s}
cd "$(dirname "$0")/.."
go=${GO:-go}
total=0
for pkg in $($go list ./...); do
	for target in $($go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $target for $time"
		$go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" "$pkg" >/tmp/fuzz-$$.log 2>&1 || { cat /tmp/fuzz-$$.log; rm -f /tmp/fuzz-$$.log; exit 1; }
		tail -n 3 /tmp/fuzz-$$.log | grep -E 'elapsed|^ok' | tail -n 2
		total=$((total + 1))
	done
done
rm -f /tmp/fuzz-$$.log
echo "fuzz: $total targets, $time each"
