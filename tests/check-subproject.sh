#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Cordon as a subproject (add_subdirectory from a consumer's project, as FetchContent does): CORDON_WERROR
# defaults to OFF, so a newer compiler's new warning cannot break the consumer's build, and no cordon
# compile command carries -Werror. (Top level, it defaults to ON: the project's own builds.)
# Usage: check-subproject.sh <source-dir> <scratch-dir> <c-compiler>
set -eu
src=$1
scratch=$2
cc=$3
rm -rf "$scratch"
mkdir -p "$scratch/consumer"
cat > "$scratch/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(cordon_subproject_consumer C)
add_subdirectory("$src" cordon)
message(STATUS "consumer sees CORDON_WERROR=\${CORDON_WERROR}")
add_executable(consumer "$src/tests/install-consumer/main.c")
target_link_libraries(consumer PRIVATE cordon::cordon_static)
CMAKE
cmake -S "$scratch/consumer" -B "$scratch/build" -DCMAKE_C_COMPILER="$cc" > "$scratch/configure.log" 2>&1 \
    || { cat "$scratch/configure.log"; exit 1; }
grep -q 'consumer sees CORDON_WERROR=OFF' "$scratch/configure.log" \
    || { echo "FAIL: CORDON_WERROR is not OFF in a subproject:"; grep 'CORDON_WERROR' "$scratch/configure.log"; exit 1; }
grep -q '^CORDON_WERROR:BOOL=OFF$' "$scratch/build/CMakeCache.txt" || { echo "FAIL: cache has:"; grep CORDON_WERROR "$scratch/build/CMakeCache.txt"; exit 1; }
[ -f "$scratch/build/compile_commands.json" ] || { echo "FAIL: no compile_commands.json"; exit 1; }
grep -q '"command"' "$scratch/build/compile_commands.json" || { echo "FAIL: compile_commands.json lists no command"; exit 1; }
if grep -q -- '-Werror' "$scratch/build/compile_commands.json"; then
    echo "FAIL: a cordon compile command carries -Werror in a subproject"; exit 1
fi
echo "subproject: CORDON_WERROR=OFF, no -Werror in any compile command"
