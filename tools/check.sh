#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every test configuration, one after the other, and prints one closing line:
#   "check: N passed, N failed, N skipped"
# Configurations (CMakePresets.json): default (gcc), clang, asan (ASan+LSan+UBSan), tsan, valgrind,
# fuzz (libFuzzer, bounded time), aarch64 (cross build, tests under qemu-aarch64), windows (MinGW-w64
# cross build, tests under Wine), and every other
# workflow preset that has a test step. A cross preset whose tools are missing is skipped and counted.
# Usage: tools/check.sh [PRESET…]     (no argument: all of them)
set -u
cd "$(dirname "$0")/.." || exit 2
# Every workflow preset with a test step (all but "release").
all=$(cmake --list-presets=workflow | sed -n 's/^ *"\([^"]*\)".*/\1/p' | grep -v '^release$')
presets=${*:-$all}
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/build/pocl-cache}"
logdir=build/check-logs
mkdir -p "$logdir"
total_pass=0
total_fail=0
total_skip=0
failed_presets=""
start=$(date +%s)
# The programs a cross preset needs beyond the host toolchain; without them the preset is skipped,
# loudly, and counted as one skipped configuration (tools/deps.sh test installs them).
cross_tools() {
    case $1 in
        aarch64) echo "aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ aarch64-linux-gnu-objdump qemu-aarch64" ;;
        windows) echo "x86_64-w64-mingw32-gcc wine64|wine" ;;
    esac
}
skipped_presets=""
for p in $presets; do
    t0=$(date +%s)
    log="$logdir/$p.log"
    missing_tools=""
    for tool in $(cross_tools "$p"); do # a|b: either will do
        found=""
        for alt in $(echo "$tool" | tr '|' ' '); do
            command -v "$alt" > /dev/null 2>&1 && found=1
        done
        [ -n "$found" ] || missing_tools="$missing_tools $tool"
    done
    if [ -n "$missing_tools" ]; then
        echo "=== $p: SKIPPED, not run: missing$missing_tools (install with tools/deps.sh test)"
        total_skip=$((total_skip + 1))
        skipped_presets="$skipped_presets $p"
        continue
    fi
    echo "=== $p: configure, build, test (log: $log)"
    # The full output goes to the log; the terminal gets the workflow steps, every failing test at once,
    # and a progress line every 25 finished tests (valgrind and fuzz take minutes).
    { cmake --workflow --preset "$p" 2>&1; echo $? > "$log.rc"; } | awk -v logf="$log" -v p="$p" '
        { print > logf; fflush(logf) }
        /^Executing workflow step/ { print "    " $0; fflush() }
        /^ *[0-9]+\/[0-9]+ Test +#/ {
            split($1, n, "/")
            if ($0 ~ /\*\*\*|Failed|Timeout/) { print "    [" p "] " $0; fflush() }
            if (n[1] % 25 == 0 || n[1] == n[2]) { print "    [" p "] " n[1] "/" n[2] " tests done"; fflush() }
        }'
    rc=$(cat "$log.rc" 2>/dev/null || echo 1)
    rm -f "$log.rc"
    summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "    $p did not get to run its tests (exit $rc); last lines:"
        tail -n 30 "$log" | sed 's/^/    /'
        total_fail=$((total_fail + 1))
        failed_presets="$failed_presets $p"
        continue
    fi
    n=$(echo "$summary" | sed 's/.*out of \([0-9]*\).*/\1/')
    f=$(echo "$summary" | sed 's/.*passed, \([0-9]*\) tests\{0,1\} failed.*/\1/')
    s=$(grep -c '(Skipped)' "$log" || true)
    pass=$((n - f - s))
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
    echo "    $p: $pass passed, $f failed, $s skipped ($(( $(date +%s) - t0 )) s)"
    if [ "$s" -gt 0 ]; then
        grep '(Skipped)' "$log" | sed 's/^/    skipped: /'
    fi
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
        failed_presets="$failed_presets $p"
        grep -E '^\s+[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Exception|Not Run)\)' "$log" | sed 's/^/    /'
        grep -B2 -A25 -E '^(FAIL|==[0-9]+==|WARNING: ThreadSanitizer|ERROR: AddressSanitizer)' "$log" | head -n 80 | sed 's/^/    | /'
    fi
done
echo "=== all configurations in $(( $(date +%s) - start )) s"
[ -z "$failed_presets" ] || echo "failing configurations:$failed_presets"
[ -z "$skipped_presets" ] || echo "skipped configurations (counted as skipped):$skipped_presets"
echo "check: $total_pass passed, $total_fail failed, $total_skip skipped"
[ -z "$failed_presets" ] && [ "$total_fail" -eq 0 ]
