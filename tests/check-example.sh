#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The main example (examples/transformer.c), end to end.
#   check-example.sh loss-falls EXAMPLE [LAUNCHER…]
#       with small sizes it exits 0, and the held-out loss it reports after training is below the one
#       before (parsed from its output, not only taken from its exit status)
#   check-example.sh deterministic EXAMPLE [LAUNCHER…]
#       on its default (deterministic) device, 1 and 2 threads train bit-identical adapters, and save
#       byte-identical adapter files
# The adapter files are written to the current directory (ctest runs in the build's tests directory).
set -u
mode=$1
example=$2
shift 2

fail() {
    echo "FAIL: $*"
    exit 1
}

case $mode in
loss-falls)
    out=$("$@" "$example" --dim 32 --heads 4 --kv-heads 2 --seq 16 --rank 4 --steps 60 --json \
        --out example-loss-falls.safetensors 2>&1)
    rc=$?
    echo "$out"
    [ "$rc" -eq 0 ] || fail "the example exited with $rc"
    line=$(echo "$out" | grep "held-out loss: first") || fail "no held-out loss line"
    first=$(echo "$line" | sed -n 's/.*first \([^,]*\),.*/\1/p')
    final=$(echo "$line" | sed -n 's/.*final \([^ ]*\) .*/\1/p')
    [ -n "$first" ] && [ -n "$final" ] || fail "cannot read the losses from: $line"
    awk -v a="$first" -v b="$final" 'BEGIN { exit !(b + 0 < a + 0) }' || fail "final loss $final is not below $first"
    echo "$out" | grep -q "relative difference .* (agrees)" || fail "the gradient check did not agree"
    echo "$out" | grep -q "^   agrees: " || fail "the forward pass did not agree with the reference"
    echo "$out" | grep -q "and read it back: identical" || fail "the saved adapter did not read back"
    [ -s example-loss-falls.safetensors ] || fail "no adapter file written"
    # --json: the whole forward, backward and training step as JSON lines, each a positive time, the
    # training step (forward + backward + Adam) no shorter than the forward it contains.
    for what in forward backward "training step"; do
        v=$(echo "$out" | sed -n "s/^{\"name\": \"whole $what (dim 32, seq 16, rank 4, [0-9]* threads*, [a-z0-9]*)\", \"value\": \([0-9.]*\), \"unit\": \"us\"}.*/\1/p")
        [ -n "$v" ] || fail "no JSON line for the whole $what"
        awk -v x="$v" 'BEGIN { exit !(x + 0 > 0) }' || fail "the whole $what took $v us"
        eval "t_$(echo "$what" | tr ' ' _)=$v"
    done
    # shellcheck disable=SC2154
    awk -v f="$t_forward" -v s="$t_training_step" 'BEGIN { exit !(s + 0 >= f + 0) }' ||
        fail "training step $t_training_step us is shorter than the forward $t_forward us"
    echo "ok: loss $first -> $final"
    ;;
deterministic)
    # Under a launcher (valgrind) smaller sizes that still give every op work above the threshold
    # where it is split across threads.
    if [ $# -gt 0 ]; then
        sizes="--dim 64 --heads 4 --kv-heads 2 --seq 32 --rank 4 --steps 40"
    else
        sizes="--dim 256 --heads 8 --kv-heads 2 --seq 64 --rank 8 --steps 20"
    fi
    # shellcheck disable=SC2086
    one=$("$@" "$example" $sizes --threads 1 --out example-threads-1.safetensors 2>&1) ||
        { echo "$one"; fail "1 thread: the example failed"; }
    # shellcheck disable=SC2086
    two=$("$@" "$example" $sizes --threads 2 --out example-threads-2.safetensors 2>&1) ||
        { echo "$two"; fail "2 threads: the example failed"; }
    echo "$two"
    echo "$two" | grep -q "deterministic)" || fail "the device is not deterministic by default"
    c1=$(echo "$one" | grep "adapter checksum")
    c2=$(echo "$two" | grep "adapter checksum")
    [ -n "$c1" ] || fail "no checksum printed"
    [ "$c1" = "$c2" ] || fail "1 thread gave '$c1', 2 threads '$c2'"
    cmp example-threads-1.safetensors example-threads-2.safetensors || fail "the saved adapter files differ"
    echo "ok: $c1 with 1 and 2 threads"
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac
