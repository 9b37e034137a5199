#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The build tree's `cordon` tool: help goes to stdout with exit 0 and names every command and option
# (version, audit --manifest); `bench --help` too; `version` prints the library version; `info` reports
# the platform, the page size and the backends.
# Usage: check-cli-help.sh <cordon-tool> [without-audit]   (without-audit: a tool built with no `audit`)
set -eu
tool=$1
words="info version bench audit --manifest --write --check"
if [ "${2:-}" = without-audit ]; then
    words="info version bench"
fi
emu=${CORDON_TEST_EMULATOR:-} # the emulator that runs target programs in a cross build
out=$($emu "$tool" --help 2>/dev/null) || { echo "FAIL: cordon --help exited nonzero"; exit 1; }
for word in $words; do
    echo "$out" | grep -qF -e "$word" || { echo "FAIL: cordon --help does not mention $word:"; echo "$out"; exit 1; }
done
out=$($emu "$tool" bench --help 2>/dev/null) || { echo "FAIL: cordon bench --help exited nonzero"; exit 1; }
echo "$out" | grep -q '^usage: cordon bench' || { echo "FAIL: cordon bench --help printed nothing on stdout"; exit 1; }
echo "$out" | grep -q -e '--json' || { echo "FAIL: cordon bench --help does not mention --json"; exit 1; }
out=$($emu "$tool" version) || { echo "FAIL: cordon version exited nonzero"; exit 1; }
echo "$out" | grep -qE '^cordon [0-9]+\.[0-9]+\.[0-9]+' || { echo "FAIL: cordon version printed: $out"; exit 1; }
if $emu "$tool" bench --no-such-option > /dev/null 2>&1; then
    echo "FAIL: an unknown bench option is accepted"; exit 1
fi
out=$($emu "$tool" info) || { echo "FAIL: cordon info exited nonzero"; exit 1; }
for field in 'platform:' 'page size:' 'futex backend:' 'compute backends:'; do
    echo "$out" | grep -q "^$field  *[^ ]" || { echo "FAIL: cordon info does not report '$field':"; echo "$out"; exit 1; }
done
echo "cordon: help on stdout, bench --help on stdout, version, info"
