#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# After `cmake --install` into a scratch prefix, a program builds and runs against it the way a user
# builds it, with no LD_LIBRARY_PATH and no path into the build tree:
#  - pkg-config, shared: cc main.c $(pkg-config --cflags --libs cordon) -Wl,-rpath,"$(pkg-config --variable=libdir cordon)"
#    (the command README.md gives for a custom prefix); static: libcordon.a + `pkg-config --static` flags;
#  - find_package(cordon): cordon::cordon and cordon::cordon_static, built and then installed with
#    CMAKE_INSTALL_RPATH_USE_LINK_PATH=ON (README.md), run from the consumer's install prefix.
# Each program's RUNPATH/RPATH (readelf -d) must not name the build tree.
# Usage: check-install.sh <build-dir> <scratch-dir> <c-compiler> <source-dir>
set -eu
build=$1
scratch=$2
cc=$3
src=$4
# A cross build (tests/CMakeLists.txt) gives the emulator that runs target programs; <c-compiler> and the
# toolchain file (CMAKE_TOOLCHAIN_FILE in the environment) build for the target.
emu=${CORDON_TEST_EMULATOR:-}
rm -rf "$scratch"
mkdir -p "$scratch"
prefix="$scratch/prefix"
cmake --install "$build" --prefix "$prefix" > "$scratch/install.log"
for f in include/cordon/cordon.h include/cordon/status.h; do
    [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
libdir=$(dirname "$(find "$prefix" -name 'libcordon.so' | head -n 1)")
[ -f "$libdir/libcordon.a" ] || { echo "FAIL: static library not installed"; exit 1; }
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

# run <program>: runs it with no LD_LIBRARY_PATH, checks its output and that its RUNPATH names only the
# installed prefix.
run() {
    check_runpath "$1" "$prefix"
    env -u LD_LIBRARY_PATH $emu "$1" > "$1.out" 2>&1 || { echo "FAIL: $1 did not run:"; cat "$1.out"; exit 1; }
    grep -q '^cordon ' "$1.out" || { echo "FAIL: $1 printed:"; cat "$1.out"; exit 1; }
}

if command -v pkg-config >/dev/null 2>&1; then
    export PKG_CONFIG_PATH="$libdir/pkgconfig"
    pc_libdir=$(pkg-config --variable=libdir cordon)
    [ "$(cd "$pc_libdir" && pwd -P)" = "$(cd "$libdir" && pwd -P)" ] || { echo "FAIL: pkg-config libdir $pc_libdir is not $libdir"; exit 1; }
    # shellcheck disable=SC2046
    "$cc" "$src/tests/install-consumer/main.c" -o "$scratch/pc_shared" $(pkg-config --cflags --libs cordon) \
        -Wl,-rpath,"$(pkg-config --variable=libdir cordon)"
    run "$scratch/pc_shared"
    # shellcheck disable=SC2046
    "$cc" "$src/tests/install-consumer/main.c" -o "$scratch/pc_static" -DCORDON_STATIC_DEFINE $(pkg-config --cflags cordon) \
        "$pc_libdir/libcordon.a" $(pkg-config --libs --static cordon | sed 's/-lcordon\b//')
    run "$scratch/pc_static"
    echo "pkg-config: shared (rpath from pkg-config's libdir) and static consumers build and run"
else
    echo "pkg-config is not installed: the pkg-config half is not checked"
    pc_missing=1
fi

cmake -S "$src/tests/install-consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_INSTALL_PREFIX="$scratch/app" -DCMAKE_INSTALL_RPATH_USE_LINK_PATH=ON \
    > "$scratch/consumer-configure.log" 2>&1 || { cat "$scratch/consumer-configure.log"; exit 1; }
cmake --build "$scratch/consumer" > "$scratch/consumer-build.log" 2>&1 || { cat "$scratch/consumer-build.log"; exit 1; }
cmake --install "$scratch/consumer" > "$scratch/consumer-install.log" 2>&1 || { cat "$scratch/consumer-install.log"; exit 1; }
prefix_saved=$prefix
prefix="$scratch"  # the consumer's own RUNPATH may name the app prefix and cordon's prefix, both in here
run "$scratch/app/bin/consumer"
run "$scratch/app/bin/consumer_static"
prefix=$prefix_saved
echo "find_package(cordon): installed cordon::cordon and cordon::cordon_static consumers run"
[ -z "${pc_missing:-}" ] || exit 77
