# SPDX-License-Identifier: Apache-2.0
# Synchronisation module: which futex backend src/sys/futex.c forwards to.
#   auto        → linux-futex on Linux, macos-ulock on Apple, windows-wait on Windows, parking-lot elsewhere
#   windows     → WaitOnAddress / WakeByAddress* (src/sys/win32/futex_win32.c; Windows only)
#   linux       → FUTEX_WAIT_BITSET / FUTEX_WAKE (src/sys/futex_linux.c)
#   ulock       → __ulock_wait2 / __ulock_wake (src/sys/futex_ulock.c; Apple only)
#   parking-lot → waiter queues on pthread mutexes and condvars (src/sys/futex_parking.c); selectable on
#                 Linux too, so the fallback is built and tested (preset `parking-lot`).
set(CORDON_FUTEX_BACKEND "auto" CACHE STRING "Futex backend: auto, linux, ulock, windows or parking-lot")
set_property(CACHE CORDON_FUTEX_BACKEND PROPERTY STRINGS auto linux ulock windows parking-lot)

set(_cordon_futex "${CORDON_FUTEX_BACKEND}")
if(_cordon_futex STREQUAL "auto")
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    set(_cordon_futex "linux")
  elseif(APPLE)
    set(_cordon_futex "ulock")
  elseif(WIN32)
    set(_cordon_futex "windows")
  else()
    set(_cordon_futex "parking-lot")
  endif()
endif()
if(_cordon_futex STREQUAL "linux")
  set(_cordon_futex_id 1)
  set(_cordon_futex_name "linux-futex")
elseif(_cordon_futex STREQUAL "ulock")
  set(_cordon_futex_id 2)
  set(_cordon_futex_name "macos-ulock")
elseif(_cordon_futex STREQUAL "parking-lot")
  set(_cordon_futex_id 3)
  set(_cordon_futex_name "parking-lot")
elseif(_cordon_futex STREQUAL "windows")
  set(_cordon_futex_id 4)
  set(_cordon_futex_name "windows-wait")
else()
  message(FATAL_ERROR "CORDON_FUTEX_BACKEND must be auto, linux, ulock, windows or parking-lot (got '${CORDON_FUTEX_BACKEND}')")
endif()
message(STATUS "cordon futex backend: ${_cordon_futex_name}")
list(APPEND CORDON_SYS_DEFINITIONS
  "CORDON_FUTEX_BACKEND_ID=${_cordon_futex_id}"
  "CORDON_FUTEX_BACKEND_NAME=\"${_cordon_futex_name}\"")
