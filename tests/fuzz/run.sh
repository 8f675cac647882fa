#!/usr/bin/env bash
# tests/fuzz/run.sh TARGET... - runs each libFuzzer target of tests/fuzz/
# (built by `make fuzz` into $FUZZ_OUT) for $FUZZ_S seconds, one after the
# other, on a scratch copy of its seed corpus (tests/fuzz/corpus/TARGET/
# copied to $FUZZ_OUT/work/TARGET/corpus: new inputs never reach the
# tree).  A crash leaves its input in $FUZZ_OUT/work/TARGET/ (crash-*,
# leak-*, timeout-*).  Prints each target's executions, exec/s and
# coverage (libFuzzer's cov: edges, ft: features) and exits 1 if any
# target failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${FUZZ_OUT:?FUZZ_OUT must name the fuzz build directory}
secs=${FUZZ_S:-600}
fail=0
summary=""
for t in "$@"; do
	work=$out/work/$t
	rm -rf "$work/corpus"
	mkdir -p "$work/corpus"
	cp "$here/corpus/$t/"* "$work/corpus/"
	dict=()
	[ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
	echo "== $t: ${secs}s on $(ls "$work/corpus" | wc -l) seed inputs (log: $work/log)"
	status=0
	(cd "$work" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		"$out/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$work/" "${dict[@]}" corpus) \
		>"$work/log" 2>&1 || status=$?
	last=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE).*cov:' "$work/log" | tail -1 || true)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
	cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) .*/cov \1, ft \2/p' <<<"$last")
	if [ "$status" != 0 ]; then
		fail=1
		grep -E 'ERROR|SUMMARY|Test unit written' "$work/log" | head -5 >&2 || true
		summary+="$t: FAILED (status $status), see $work/log"$'\n'
	else
		summary+="$t: ${runs:-?} executions, ${rate:-?} exec/s, ${cov:-?}"$'\n'
	fi
	echo "$t: done (status $status)"
done
echo
echo "make fuzz, $(date -u +%Y-%m-%d), ${secs}s per target:"
printf '%s' "$summary"
exit "$fail"
