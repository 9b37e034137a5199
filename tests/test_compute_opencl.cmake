# SPDX-License-Identifier: Apache-2.0
# The OpenCL tests. PoCL compiles kernels on first use (seconds each natively, many minutes under
# valgrind) and caches the result on disk, keyed by the source, the build options and the CPU it
# compiles for. Every configuration points that cache at one directory inside the build tree: the one
# tools/check.sh exports (POCL_CACHE_DIR=build/pocl-cache, shared by all the configurations it runs in
# turn) when it is set at configure time, else <build dir>/pocl-cache. The kernels are compiled for
# the AVX2 kernel library (POCL_KERNELLIB_NAME=avx2; PoCL falls back to the best the CPU has when it
# lacks AVX2): that is what PoCL picks under valgrind, whose virtual CPU has no AVX-512, so natively
# compiled kernels are found in the cache by the valgrind runs.
# Under valgrind, a setup test (a CTest fixture) first runs every OpenCL test natively with the
# valgrind runs' seed and slow mode, so that every program and work-group specialisation they use is
# already compiled: under valgrind PoCL only loads them (no LLVM code generation there).
# Under LeakSanitizer, what PoCL's compiler and the OpenCL libraries keep for the process is suppressed
# (lsan-opencl.supp); cordon's own cl objects are counted by the tests.
# The main example with --device opencl is one of them.
set(CORDON_POCL_CACHE_DIR "$ENV{POCL_CACHE_DIR}" CACHE PATH "PoCL's kernel cache for the OpenCL tests")
if(CORDON_POCL_CACHE_DIR STREQUAL "")
  set_property(CACHE CORDON_POCL_CACHE_DIR PROPERTY VALUE "${PROJECT_BINARY_DIR}/pocl-cache")
endif()
# The valgrind runs and their setup test share one seed (the property shapes decide which CLBlast kernels
# run); the other configurations draw theirs.
set(CORDON_OPENCL_VALGRIND_SEED 20261202)

function(cordon_opencl_tests_finish)
  set(_valgrind OFF)
  if(NOT CORDON_TEST_LAUNCHER STREQUAL "")
    set(_valgrind ON)
  endif()
  if(TARGET example_transformer AND CMAKE_CROSSCOMPILING)
    add_test(NAME compute_opencl.main_example_runs_with_device_opencl
      COMMAND sh -c "echo 'SKIP: cross build: no OpenCL device is built in (CORDON_OPENCL=OFF)'; exit 77")
    set_tests_properties(compute_opencl.main_example_runs_with_device_opencl PROPERTIES
      LABELS "compute_opencl" SKIP_RETURN_CODE 77)
  elseif(TARGET example_transformer)
    add_test(NAME compute_opencl.main_example_runs_with_device_opencl
      COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/check-example-opencl.sh" $<TARGET_FILE:example_transformer>
              ${CORDON_TEST_LAUNCHER})
    set_tests_properties(compute_opencl.main_example_runs_with_device_opencl PROPERTIES
      LABELS "compute_opencl" SKIP_RETURN_CODE 77 TIMEOUT 300)
  endif()
  if(_valgrind AND TARGET test_compute_opencl AND NOT CMAKE_CROSSCOMPILING)
    set(_example "")
    if(TARGET example_transformer)
      set(_example $<TARGET_FILE:example_transformer>)
    endif()
    add_test(NAME compute_opencl.kernels_are_compiled_outside_valgrind_first
      COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/warm-opencl-cache.sh" $<TARGET_FILE:test_compute_opencl> ${_example})
    set_tests_properties(compute_opencl.kernels_are_compiled_outside_valgrind_first PROPERTIES
      LABELS "compute_opencl" SKIP_RETURN_CODE 77 TIMEOUT 900 FIXTURES_SETUP cordon_opencl_kernels
      ENVIRONMENT "CORDON_TEST_SLOW=1")
  endif()
  get_property(_tests DIRECTORY PROPERTY TESTS)
  foreach(_t IN LISTS _tests)
    if(_t MATCHES "^compute_opencl\\.")
      set_property(TEST "${_t}" APPEND PROPERTY ENVIRONMENT "POCL_CACHE_DIR=${CORDON_POCL_CACHE_DIR}"
        "POCL_KERNELLIB_NAME=avx2" "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan-opencl.supp")
      if(_valgrind)
        set_property(TEST "${_t}" APPEND PROPERTY ENVIRONMENT "CORDON_TEST_SEED=${CORDON_OPENCL_VALGRIND_SEED}")
        if(NOT _t STREQUAL "compute_opencl.kernels_are_compiled_outside_valgrind_first")
          set_tests_properties("${_t}" PROPERTIES FIXTURES_REQUIRED cordon_opencl_kernels TIMEOUT 900)
        endif()
      endif()
    endif()
  endforeach()
endfunction()
cmake_language(DEFER CALL cordon_opencl_tests_finish)
