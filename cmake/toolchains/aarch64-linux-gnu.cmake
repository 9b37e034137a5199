# SPDX-License-Identifier: Apache-2.0
# Cross build for aarch64 Linux with Debian's cross toolchain (gcc-aarch64-linux-gnu,
# g++-aarch64-linux-gnu, libc6-dev-arm64-cross); every test runs under qemu-user (qemu-aarch64), which
# finds the aarch64 loader and C library under /usr/aarch64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CORDON_CROSS_PREFIX "aarch64-linux-gnu")
set(CORDON_CROSS_ROOT "/usr/${CORDON_CROSS_PREFIX}")
set(CMAKE_C_COMPILER "${CORDON_CROSS_PREFIX}-gcc")
set(CMAKE_CXX_COMPILER "${CORDON_CROSS_PREFIX}-g++") # the C++ header test (tests/cxx_headers.cpp)

# Libraries and headers come from the aarch64 root only (a host OpenBLAS or OpenCL must never be
# found); programs (the emulator, sh, spin) come from the host; packages from either (the install test
# finds cordon's own package in a scratch prefix).
set(CMAKE_FIND_ROOT_PATH "${CORDON_CROSS_ROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

find_program(CORDON_QEMU_AARCH64 qemu-aarch64)
if(CORDON_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${CORDON_QEMU_AARCH64};-L;${CORDON_CROSS_ROOT}")
endif()
