#!/bin/sh
# After `cmake --install` into a scratch prefix, a program builds and runs against it through pkg-config
# (shared and static) and through find_package(cordon) (cordon::cordon and cordon::cordon_static).
# Usage: check-install.sh <build-dir> <scratch-dir> <c-compiler> <source-dir>
set -eu
build=$1
scratch=$2
cc=$3
src=$4
rm -rf "$scratch"
mkdir -p "$scratch"
prefix="$scratch/prefix"
cmake --install "$build" --prefix "$prefix" > "$scratch/install.log"
for f in include/cordon/cordon.h include/cordon/status.h; do
    [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
libdir=$(dirname "$(find "$prefix" -name 'libcordon.so' | head -n 1)")
[ -f "$libdir/libcordon.a" ] || { echo "FAIL: static library not installed"; exit 1; }

if command -v pkg-config >/dev/null 2>&1; then
    export PKG_CONFIG_PATH="$libdir/pkgconfig"
    # shellcheck disable=SC2046
    "$cc" "$src/tests/install-consumer/main.c" -o "$scratch/pc_shared" $(pkg-config --cflags --libs cordon) -Wl,-rpath,"$libdir"
    "$scratch/pc_shared" | grep -q '^cordon ' || { echo "FAIL: pkg-config shared consumer"; exit 1; }
    # shellcheck disable=SC2046
    "$cc" "$src/tests/install-consumer/main.c" -o "$scratch/pc_static" -DCORDON_STATIC_DEFINE $(pkg-config --cflags cordon) \
        "$libdir/libcordon.a" $(pkg-config --libs-only-other --static cordon | sed 's/-lcordon//') -lm
    "$scratch/pc_static" | grep -q '^cordon ' || { echo "FAIL: pkg-config static consumer"; exit 1; }
    echo "pkg-config: shared and static consumers build and run"
else
    echo "pkg-config is not installed: the pkg-config half is not checked"
    pc_missing=1
fi

cmake -S "$src/tests/install-consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" > "$scratch/consumer-configure.log" 2>&1 || { cat "$scratch/consumer-configure.log"; exit 1; }
cmake --build "$scratch/consumer" > "$scratch/consumer-build.log" 2>&1 || { cat "$scratch/consumer-build.log"; exit 1; }
LD_LIBRARY_PATH="$libdir" "$scratch/consumer/consumer" | grep -q '^cordon ' || { echo "FAIL: find_package consumer"; exit 1; }
"$scratch/consumer/consumer_static" | grep -q '^cordon ' || { echo "FAIL: find_package static consumer"; exit 1; }
echo "find_package(cordon): cordon::cordon and cordon::cordon_static consumers build and run"
[ -z "${pc_missing:-}" ] || exit 77
