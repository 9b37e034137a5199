# SPDX-License-Identifier: Apache-2.0
# Cross build for 64-bit Windows with MinGW-w64 (Debian: mingw-w64); tests run under Wine (Debian: wine64)
# through tools/wine-run.sh, the crosscompiling emulator.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(_cordon_mingw x86_64-w64-mingw32)
# The posix thread model: the tests use <pthread.h> (winpthreads) to drive the library from outside;
# the library itself calls only Win32 (src/sys/win32/).
find_program(CMAKE_C_COMPILER NAMES ${_cordon_mingw}-gcc-posix ${_cordon_mingw}-gcc REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${_cordon_mingw}-g++-posix ${_cordon_mingw}-g++)
find_program(CMAKE_RC_COMPILER NAMES ${_cordon_mingw}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${_cordon_mingw})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# C99 printf (%zu, %lld) instead of the system runtime's, as the tests and the library's formatting assume.
set(CMAKE_C_FLAGS_INIT "-D__USE_MINGW_ANSI_STDIO=1")
set(CMAKE_CXX_FLAGS_INIT "-D__USE_MINGW_ANSI_STDIO=1")
# Every program carries its compiler runtime and winpthreads: no DLL has to be copied next to it.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc")
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../../tools/wine-run.sh")
