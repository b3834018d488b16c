#!/bin/sh
# Downloads and unpacks (never installs) the DNS managers the system tests
# run in their hosts' private mount namespaces: Debian's resolvconf,
# openresolv and systemd-resolved (the version of the installed systemd,
# whose private library it needs). Installing any of them would rewrite
# this machine's /etc/resolv.conf, and the first two conflict.
#
#   scripts/fetch-debs.sh [DIR]     DIR defaults to .cache/debs
#
# Each package is unpacked to DIR/PACKAGE/ (its files as they would be
# installed, under that directory); the tests find them there, or under
# $WGTOOLS_DEBS.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-${WGTOOLS_DEBS:-.cache/debs}}
mkdir -p "$dir/download"
dir=$(cd "$dir" && pwd)
systemd=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null || true)
resolved=systemd-resolved${systemd:+=$systemd}
fetch() {
	(cd "$dir/download" && apt-get download "$@" >/dev/null 2>&1)
}
for p in resolvconf openresolv "$resolved"; do
	name=${p%%=*}
	[ -d "$dir/$name" ] && continue
	if ! fetch "$p"; then
		apt-get update -qq >/dev/null
		fetch "$p"
	fi
	deb=$(ls "$dir/download/${name}_"*.deb | head -n 1)
	rm -rf "$dir/$name.tmp"
	mkdir -p "$dir/$name.tmp"
	dpkg-deb -x "$deb" "$dir/$name.tmp"
	mv "$dir/$name.tmp" "$dir/$name"
	echo "$name: $(basename "$deb") -> $dir/$name"
done
