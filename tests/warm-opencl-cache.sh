#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Compiles, outside valgrind, every OpenCL kernel the OpenCL tests will use under valgrind: runs each
# test of the binary natively with the environment ctest gives the valgrind runs (the same PoCL cache,
# kernel library, seed and slow mode), so that PoCL finds every program and work-group specialisation
# in its on-disk cache there and never runs its LLVM compiler under valgrind.
#   warm-opencl-cache.sh TEST_BINARY [EXAMPLE]
# With EXAMPLE, the main example's OpenCL run (check-example-opencl.sh) is run natively too.
# Exits 77 (skipped) when the binary's tests skip (no OpenCL device), 1 when a test fails natively.
set -u
bin=$1
ran=0
for name in $("$bin" --list); do
    "$bin" "$name" >/dev/null 2>&1
    rc=$?
    case $rc in
        0) ran=$((ran + 1)) ;;
        77) ;;
        *) echo "FAIL: $name exits $rc outside valgrind"; "$bin" "$name"; exit 1 ;;
    esac
done
if [ "$ran" -gt 0 ] && [ $# -ge 2 ]; then
    sh "$(dirname "$0")/check-example-opencl.sh" "$2" >/dev/null 2>&1 || {
        echo "FAIL: the example's OpenCL run fails outside valgrind"; exit 1; }
fi
if [ "$ran" -eq 0 ]; then
    echo "SKIP: no OpenCL test ran (no OpenCL device): nothing to compile"
    exit 77
fi
echo "kernels compiled for $ran tests (PoCL cache: ${POCL_CACHE_DIR:-default})"
