#!/bin/bash
# The kernel-path checks, run by init inside the VM. Two phases in one
# boot: first without the wireguard module (it is in the initramfs but held
# back, so neither modprobe nor the kernel's autoload can find it), then
# with it loaded. Results: $OUT/results.txt; the last line on the console
# is the tally.
set -u
. /opt/vmtest/lib.sh
cd /tmp

echo "vmtest: kernel $(uname -r) ($(uname -v))"
uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "vmtest: guest up at $(uptime_s)s"

# run_gotests LABEL BINARY ARGS...: a Go test binary, each test a result.
run_gotests() {
	local label=$1 bin=$2
	shift 2
	local log=$OUT/go-$label.log
	echo "vmtest: go tests of $label at $(uptime_s)s"
	WGTOOLS_KERNEL_TESTS=1 timeout 600 "$bin" -test.v -test.count=1 -test.timeout=540s "$@" > "$log" 2>&1
	local rc=$?
	# Leaf tests only: a test with subtests is counted through them.
	awk -v label="$label" '
		match($0, /^ *--- (PASS|FAIL|SKIP): [^ ]+/) {
			split(substr($0, RSTART, RLENGTH), f, " ")
			st = f[2]; sub(":", "", st); name = f[3]
			n++; names[n] = name; status[name] = st
		}
		/^ *[a-z_]+_test\.go:[0-9]+: / && cur != "" { if (!(cur in why)) { why[cur] = $0; sub(/^ +/, "", why[cur]) } }
		/^=== (RUN|CONT) / { cur = $3 }
		END {
			for (i = 1; i <= n; i++) {
				name = names[i]; leaf = 1
				for (j = 1; j <= n; j++) if (index(names[j], name "/") == 1) leaf = 0
				if (!leaf) continue
				d = (name in why) ? why[name] : ""
				printf "%s go/%s/%s\t%s\n", status[name], label, name, d
			}
		}' "$log" > /tmp/go-results
	local st name why found=0
	while IFS=$'\t' read -r st_name why; do
		st=${st_name%% *} name=${st_name#* }
		found=1
		if [ "$st" = PASS ]; then result PASS "$name"; else result "$st" "$name" "$why"; fi
	done < /tmp/go-results
	if [ $rc -ne 0 ] && ! grep -q '^FAIL go/' /tmp/go-results; then
		fail "go/$label" "test binary exited $rc without a failing test (panic or timeout?): $(tail -5 "$log")"
	elif [ $found = 0 ]; then
		fail "go/$label" "no tests ran"
	fi
	if grep -q '^FAIL' /tmp/go-results; then
		echo "vmtest: --- output of the failing Go tests ($label) ---"
		grep -v '^=== \(RUN\|PAUSE\|CONT\)' "$log" | grep -B30 -- '--- FAIL' | head -120
	fi
}

# VMTEST_ONLY (a regular expression) picks check scripts by name; Go
# tests run when it matches "go".
gotests() {
	if [ -n "${VMTEST_ONLY:-}" ] && ! [[ go =~ $VMTEST_ONLY ]]; then return; fi
	ls /opt/vmtest/go/*.test 2>/dev/null
}

echo "vmtest: === phase 1: no wireguard module"
if [ -e /sys/module/wireguard ]; then
	fail env/module-held-back "the wireguard module is loaded before the no-module phase"
elif modprobe wireguard 2>/dev/null; then
	fail env/module-held-back "modprobe found the wireguard module"
else
	echo "vmtest: wireguard module absent (modprobe: not found)"
fi
# Only the binaries that have the test: the others' kernel tests need
# nothing of the module and run in phase 2.
for t in $(gotests); do
	[ -n "$("$t" -test.list '^TestKernelNoModule$' 2>/dev/null)" ] || continue
	run_gotests "$(basename "$t" .test)" "$t" -test.run '^TestKernelNoModule$'
done
# run_checks PATTERN: each check script in a subshell of its own, so one
# that stops early loses only its own results (and says so).
run_checks() {
	local c rc
	for c in /opt/vmtest/checks/$1; do
		[ -f "$c" ] || continue
		if [ -n "${VMTEST_ONLY:-}" ] && ! [[ ${c##*/} =~ $VMTEST_ONLY ]]; then continue; fi
		echo "vmtest: ${c##*/} at $(uptime_s)s"
		(. "$c"; exit 0)
		rc=$?
		[ $rc = 0 ] || fail "checks/${c##*/}" "the check script stopped with status $rc"
	done
}
run_checks 'nomodule-*.sh'

echo "vmtest: === phase 2: wireguard module"
if /opt/vmtest/vm-module-enable wireguard && [ -e /sys/module/wireguard ]; then
	echo "vmtest: wireguard module loaded: version $(cat /sys/module/wireguard/version 2>/dev/null), srcversion $(cat /sys/module/wireguard/srcversion 2>/dev/null)"
	dmesg | grep -i 'wireguard:' | sed 's/^/vmtest: dmesg: /'
	for t in $(gotests); do
		run_gotests "$(basename "$t" .test)" "$t" -test.run '^TestKernel' -test.skip '^TestKernelNoModule$'
	done
	run_checks 'kernel-*.sh'
else
	fail env/module-load "could not load the wireguard module"
fi

passed=$(grep -c $'^PASS\t' "$RESULTS")
failed=$(grep -c $'^FAIL\t' "$RESULTS")
skipped=$(grep -c $'^SKIP\t' "$RESULTS")
echo "vmtest: guest done at $(uptime_s)s"
echo "kernel-path: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
