#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The main example on the OpenCL device: `transformer --device opencl` exits 0 and says the loss fell.
#   check-example-opencl.sh EXAMPLE [LAUNCHER…]
# Exits 77 (skipped) when the build or the machine has no OpenCL device.
set -u
emu=${CORDON_TEST_EMULATOR:-} # the emulator that runs target programs in a cross build
example=$1
shift
out=$("$@" $emu "$example" --device opencl --dim 32 --heads 4 --kv-heads 2 --seq 16 --rank 4 --steps 60 \
    --out example-opencl.safetensors 2>&1)
rc=$?
echo "$out"
if echo "$out" | grep -q -e "BACKEND_UNAVAILABLE" -e "backend not available"; then
    echo "SKIP: no OpenCL device (not built in, or no ICD installed)"
    exit 77
fi
[ "$rc" -eq 0 ] || { echo "FAIL: the example exited with $rc"; exit 1; }
echo "$out" | grep -q "device: opencl" || { echo "FAIL: the example did not run on the OpenCL device"; exit 1; }
echo "$out" | grep -q "the loss fell" || { echo "FAIL: the loss did not fall"; exit 1; }
rm -f example-opencl.safetensors
