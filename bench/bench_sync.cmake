# SPDX-License-Identifier: Apache-2.0
# Peers for `cordon bench sync`: nsync (libnsync-dev) and OpenMP, both optional — without them the
# suite prints a note and skips those figures.
find_library(CORDON_NSYNC_LIBRARY nsync)
find_path(CORDON_NSYNC_INCLUDE nsync.h)
if(CORDON_NSYNC_LIBRARY AND CORDON_NSYNC_INCLUDE)
  add_library(cordon_bench_nsync INTERFACE)
  target_link_libraries(cordon_bench_nsync INTERFACE "${CORDON_NSYNC_LIBRARY}")
  target_include_directories(cordon_bench_nsync INTERFACE "${CORDON_NSYNC_INCLUDE}")
  target_compile_definitions(cordon_bench_nsync INTERFACE CORDON_BENCH_HAVE_NSYNC=1)
  list(APPEND CORDON_BENCH_EXTRA_LIBS cordon_bench_nsync)
endif()
find_package(OpenMP COMPONENTS C QUIET)
if(OpenMP_C_FOUND)
  # Imported targets are visible only in the directory that found them; tools/ links it too.
  set_target_properties(OpenMP::OpenMP_C PROPERTIES IMPORTED_GLOBAL TRUE)
  list(APPEND CORDON_BENCH_EXTRA_LIBS OpenMP::OpenMP_C)
endif()
