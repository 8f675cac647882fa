#!/usr/bin/env bash
# tests/fuzz/build.sh - builds the libFuzzer harness with Debian's clang:
#   tests/fuzz/build.sh [BUILD_DIR]     (default build; needs BUILD_DIR/libember.a)
# Output: BUILD_DIR/ember-fuzzer.  Run it as a libFuzzer binary:
#   EMBER_SNAPSHOT=DIR [EMBER_COVERAGE=GPA:LEN] BUILD_DIR/ember-fuzzer [libFuzzer flags]
# For AFL++, link ember_fuzzer.c with afl-clang-fast and its libAFLDriver
# instead of -fsanitize=fuzzer.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build}
CLANG=${CLANG:-clang}
"$CLANG" -g -O1 -fsanitize=fuzzer -I"$root/include" -o "$out/ember-fuzzer" \
	"$here/ember_fuzzer.c" "$out/libember.a" $(pkg-config --libs liburing libseccomp libcap jansson) -lpthread
echo "$out/ember-fuzzer"
