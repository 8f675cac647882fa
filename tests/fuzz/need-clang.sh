#!/usr/bin/env bash
# tests/fuzz/need-clang.sh CC - `make fuzz` found no CC: installs Debian's
# clang (which brings libFuzzer) when root on a Debian-like system, else
# says which package is missing and fails.
set -euo pipefail
cc=${1:-clang}
if [ "$cc" = clang ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "make fuzz: '$cc' not found; installing Debian's clang package" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y clang >&2
	command -v clang >/dev/null && exit 0
fi
echo "make fuzz: '$cc' not found: install Debian's 'clang' package (apt-get install clang), which brings libFuzzer" >&2
exit 1
