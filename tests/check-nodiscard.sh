#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Which results the compiler insists on (issue 8, item 7), under gcc and clang with -Wall -Wextra -Werror:
#  - tests/nodiscard/prodcons.c, a producer/consumer that ignores lock, unlock, signal and broadcast
#    results as users write them, compiles in C11 and C23 and runs;
#  - tests/nodiscard/must_use.c, which ignores a trylock, is refused in C11 and C23;
#  - tests/nodiscard/void_cast.c, the same silenced with (void), compiles in C23 and C++17.
# Usage: check-nodiscard.sh <source-dir> <scratch-dir> <libcordon.so>
set -eu
src=$1
scratch=$2
lib=$3
# A cross build (tests/CMakeLists.txt) gives the emulator that runs target programs and the target triplet.
emu=${CORDON_TEST_EMULATOR:-}
cross=${CORDON_TEST_CROSS_PREFIX:-}
rm -rf "$scratch"
mkdir -p "$scratch"
libdir=$(dirname "$lib")
flags="-Wall -Wextra -Werror -I$src/include"
missing=""
for cc in gcc clang; do
    case $cc in
        gcc) ccx=${cross:+$cross-}gcc; cxx=${cross:+$cross-}g++ ;;
        clang) ccx="clang${cross:+ --target=$cross}"; cxx="clang++${cross:+ --target=$cross}" ;;
    esac
    if ! command -v ${ccx%% *} >/dev/null 2>&1; then
        echo "SKIP part: $cc is not installed"
        missing="$missing $cc"
        continue
    fi
    for std in c11 c2x; do
        # shellcheck disable=SC2086
        $ccx -std=$std $flags "$src/tests/nodiscard/prodcons.c" -o "$scratch/prodcons-$cc-$std" \
            "$lib" -Wl,-rpath,"$libdir" > "$scratch/prodcons-$cc-$std.log" 2>&1 \
            || { echo "FAIL: $cc -std=$std refuses the producer/consumer:"; cat "$scratch/prodcons-$cc-$std.log"; exit 1; }
        $emu "$scratch/prodcons-$cc-$std" | grep -q '^consumed 1000$' || { echo "FAIL: prodcons ($cc, $std) did not consume 1000"; exit 1; }
        # shellcheck disable=SC2086
        if $ccx -std=$std $flags -c "$src/tests/nodiscard/must_use.c" -o "$scratch/must_use.o" > "$scratch/must_use.log" 2>&1; then
            echo "FAIL: $cc -std=$std accepts an ignored trylock result"; exit 1
        fi
        grep -q 'cordon_mutex_trylock' "$scratch/must_use.log" || { echo "FAIL: $cc -std=$std refused must_use.c for another reason:"; cat "$scratch/must_use.log"; exit 1; }
    done
    # shellcheck disable=SC2086
    $ccx -std=c2x $flags -c "$src/tests/nodiscard/void_cast.c" -o "$scratch/void_cast.o" \
        || { echo "FAIL: $cc -std=c2x does not let (void) silence [[nodiscard]]"; exit 1; }
    if command -v ${cxx%% *} >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        $cxx -x c++ -std=c++17 $flags -c "$src/tests/nodiscard/void_cast.c" -o "$scratch/void_cast_cxx.o" \
            || { echo "FAIL: $cxx -std=c++17 does not let (void) silence [[nodiscard]]"; exit 1; }
    fi
    echo "$cc: producer/consumer builds and runs (C11, C23); ignored trylock refused; (void) silences it in C23/C++17"
done
if [ -n "$missing" ]; then
    echo "SKIP: not checked with:$missing"
    exit 77
fi
