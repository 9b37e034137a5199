#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The "done when" of issue 8: a WebAssembly host written from the headers alone
# (tests/install-consumer/wasm_host.c) builds against an installed prefix with -Wall -Wextra -Werror
# under gcc and clang, linked as README.md says (pkg-config, rpath from its libdir), and runs with no
# LD_LIBRARY_PATH.
# Usage: check-wasm-host.sh <build-dir> <scratch-dir> <source-dir>
set -eu
build=$1
scratch=$2
src=$3
# A cross build (tests/CMakeLists.txt) gives the emulator that runs target programs and the target triplet.
emu=${CORDON_TEST_EMULATOR:-}
cross=${CORDON_TEST_CROSS_PREFIX:-}
command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: pkg-config is not installed"; exit 77; }
rm -rf "$scratch"
mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" > "$scratch/install.log"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$(find "$scratch/prefix" -name cordon.pc | head -n 1)")
unset LD_LIBRARY_PATH
# check_runpath <program> <prefix>: every RUNPATH/RPATH entry is $ORIGIN-relative or inside the installed
# prefix (the scratch prefix itself lives under the build tree, so "names the build tree" means
# "points anywhere else").
check_runpath() {
    command -v readelf >/dev/null 2>&1 || return 0
    real_prefix=$(cd "$2" && pwd -P)
    for entry in $(readelf -d "$1" | sed -n 's/.*R\(UN\)\{0,1\}PATH.*\[\(.*\)\]/\2/p' | tr ':' ' '); do
        case $entry in
            '$ORIGIN'*) continue ;;
        esac
        real=$(cd "$entry" 2>/dev/null && pwd -P) || real=$entry
        case $real in
            "$real_prefix"|"$real_prefix"/*) ;;
            *) echo "FAIL: $1 has RUNPATH/RPATH $entry outside the installed prefix"; exit 1 ;;
        esac
    done
}
missing=""
for cc in gcc clang; do
    case $cc in gcc) ccx=${cross:+$cross-}gcc ;; clang) ccx="clang${cross:+ --target=$cross}" ;; esac
    if ! command -v ${ccx%% *} >/dev/null 2>&1; then
        echo "SKIP part: $cc is not installed"
        missing="$missing $cc"
        continue
    fi
    # shellcheck disable=SC2046
    $ccx -std=c11 -Wall -Wextra -Werror "$src/tests/install-consumer/wasm_host.c" -o "$scratch/wasm_host-$cc" \
        $(pkg-config --cflags --libs cordon) -Wl,-rpath,"$(pkg-config --variable=libdir cordon)" \
        || { echo "FAIL: $cc does not build the Wasm host with -Wall -Wextra -Werror"; exit 1; }
    check_runpath "$scratch/wasm_host-$cc" "$scratch/prefix"
    env -u LD_LIBRARY_PATH $emu "$scratch/wasm_host-$cc" || { echo "FAIL: the Wasm host ($cc) failed"; exit 1; }
done
if [ -n "$missing" ]; then
    echo "SKIP: not checked with:$missing"
    exit 77
fi
