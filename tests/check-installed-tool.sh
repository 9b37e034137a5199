#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The installed `cordon` tool works with the build tree out of reach: installed into a scratch prefix,
# the prefix copied elsewhere and the original removed, `cordon info`, `cordon version` and
# `cordon bench --help` run with no LD_LIBRARY_PATH; the tool and libcordon carry no RUNPATH/RPATH into
# the build or source tree and need no benchmark peer (nsync, OpenMP, OpenBLAS, oneDNN); `audit`, a
# developer command that reads the build tree's manifest, is not part of it.
# Usage: check-installed-tool.sh <build-dir> <scratch-dir> <source-dir>
set -eu
build=$1
scratch=$2
src=$3
# A cross build (tests/CMakeLists.txt) gives the emulator that runs target programs.
emu=${CORDON_TEST_EMULATOR:-}
command -v readelf >/dev/null 2>&1 || { echo "SKIP: readelf is not installed (binutils)"; exit 77; }
rm -rf "$scratch"
mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" > "$scratch/install.log"
cp -a "$scratch/prefix" "$scratch/moved"
rm -rf "$scratch/prefix"
tool="$scratch/moved/bin/cordon"
[ -x "$tool" ] || { echo "FAIL: bin/cordon not installed"; exit 1; }
unset LD_LIBRARY_PATH

for f in "$tool" $(find "$scratch/moved" -name 'libcordon.so*' -type f); do
    dyn=$(readelf -d "$f")
    if echo "$dyn" | grep -E 'R(UN)?PATH' | grep -qF -e "$build" -e "$src" -e "$scratch"; then
        echo "FAIL: $f carries a path into the build tree:"; echo "$dyn" | grep -E 'R(UN)?PATH'; exit 1
    fi
    if echo "$dyn" | grep NEEDED | grep -qiE 'nsync|gomp|omp\.so|dnnl'; then
        echo "FAIL: $f needs a benchmark peer:"; echo "$dyn" | grep NEEDED; exit 1
    fi
done

out=$(env -u LD_LIBRARY_PATH $emu "$tool" version) || { echo "FAIL: cordon version: $out"; exit 1; }
echo "$out" | grep -q '^cordon [0-9]' || { echo "FAIL: cordon version printed: $out"; exit 1; }
out=$(env -u LD_LIBRARY_PATH $emu "$tool" info) || { echo "FAIL: cordon info: $out"; exit 1; }
echo "$out" | grep -q '^page size:' || { echo "FAIL: cordon info printed: $out"; exit 1; }
echo "$out" | grep -qE '^platform: +(x86-64|aarch64|x86) ' || { echo "FAIL: cordon info names no platform: $out"; exit 1; }
out=$(env -u LD_LIBRARY_PATH $emu "$tool" bench --help 2>/dev/null) || { echo "FAIL: cordon bench --help exited nonzero"; exit 1; }
echo "$out" | grep -q 'usage: cordon bench' || { echo "FAIL: cordon bench --help printed nothing on stdout"; exit 1; }
out=$(env -u LD_LIBRARY_PATH $emu "$tool" --help 2>/dev/null) || { echo "FAIL: cordon --help exited nonzero"; exit 1; }
echo "$out" | grep -q '  version' || { echo "FAIL: cordon --help does not list version"; exit 1; }
if env -u LD_LIBRARY_PATH $emu "$tool" audit > "$scratch/audit.out" 2>&1; then
    echo "FAIL: the installed tool runs audit"; exit 1
fi
echo "installed cordon: info, version and bench --help run from a moved prefix; no build-tree path, no peer"
