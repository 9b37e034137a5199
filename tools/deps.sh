#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs what cordon needs on Debian/Ubuntu, with apt-get (as root, or through sudo).
#   tools/deps.sh build   compiler and CMake: enough to build the library and run the example
#   tools/deps.sh test    build + everything the full test run uses (clang with sanitizer and libFuzzer
#                         runtimes, valgrind, spin, pkg-config, MinGW-w64 and Wine for the windows
#                         preset) and the benchmark peers
set -eu
what=${1:-build}
build_pkgs="build-essential cmake pkg-config"
test_pkgs="clang libclang-rt-14-dev valgrind spin libnsync-dev libopenblas-dev libdnnl-dev pocl-opencl-icd ocl-icd-opencl-dev opencl-headers libclblast-dev clinfo"
# The aarch64 preset: cross compiler and C library, and qemu-user to run its tests.
test_pkgs="$test_pkgs gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-user"
# The windows preset: the MinGW-w64 cross compilers and Wine to run the tests (`wine` gives the `wine`
# command; Debian's wine64 alone installs only the loader under /usr/lib/wine, and tools/check.sh would
# skip the preset, counted, for want of it).
test_pkgs="$test_pkgs mingw-w64 wine64 wine"
case $what in
    build) pkgs=$build_pkgs ;;
    test) pkgs="$build_pkgs $test_pkgs" ;;
    *) echo "usage: tools/deps.sh build|test" >&2; exit 2 ;;
esac
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "tools/deps.sh: run as root or install sudo" >&2
    exit 1
fi
# Skip apt entirely when everything is already installed (fast reruns, offline machines).
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "tools/deps.sh: all $what dependencies present"
    exit 0
fi
echo "tools/deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
