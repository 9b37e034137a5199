#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs the SPIN model checker over a Promela model: spin -a, compile the verifier, run it.
# Usage: run-spin.sh <model.pml> <scratch-dir> <expect: clean|error> [spin -D options…]
# clean: passes when the verifier reports "errors: 0"; error: passes when it reports an error (a planted
# bug must be caught). Exits 77 (skipped) when spin or a C compiler is not installed.
set -eu
model=$1
scratch=$2
expect=$3
shift 3
command -v spin >/dev/null 2>&1 || { echo "spin is not installed (Debian package 'spin'): skipped"; exit 77; }
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || { echo "no C compiler ($cc): skipped"; exit 77; }
rm -rf "$scratch"
mkdir -p "$scratch"
cd "$scratch"
spin -a "$@" "$model" > spin.log 2>&1 || { cat spin.log; echo "spin -a failed"; exit 1; }
"$cc" -O2 -w -DSAFETY -o pan pan.c || { echo "compiling the verifier failed"; exit 1; }
./pan -m1000000 > pan.log 2>&1 || true
cat pan.log
grep -q "errors: " pan.log || { echo "the verifier did not finish"; exit 1; }
if grep -q "errors: 0" pan.log; then
    result=clean
else
    result=error
fi
if grep -q "error: max search depth too small" pan.log; then
    echo "search depth too small: the model was not fully explored"
    exit 1
fi
if [ "$result" != "$expect" ]; then
    echo "expected $expect, the verifier found $result"
    exit 1
fi
echo "as expected: $result"
