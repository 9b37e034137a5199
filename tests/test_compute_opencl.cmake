# SPDX-License-Identifier: Apache-2.0
# The OpenCL tests. PoCL compiles kernels on first use (seconds each) and caches the result on disk:
# its cache is pointed inside the build tree (tools/check.sh exports the same variable) for every test
# of this file, once they exist (they are registered after this file is read: a deferred call).
# Under LeakSanitizer, what PoCL's compiler and the OpenCL libraries keep for the process is suppressed
# (lsan-opencl.supp); cordon's own cl objects are counted by the tests.
# The main example with --device opencl is one of them (not under valgrind: see test_compute_opencl.c).
function(cordon_opencl_tests_finish)
  if(TARGET example_transformer AND CMAKE_CROSSCOMPILING)
    add_test(NAME compute_opencl.main_example_runs_with_device_opencl
      COMMAND sh -c "echo 'SKIP: cross build: no OpenCL device is built in (CORDON_OPENCL=OFF)'; exit 77")
    set_tests_properties(compute_opencl.main_example_runs_with_device_opencl PROPERTIES
      LABELS "compute_opencl" SKIP_RETURN_CODE 77)
  elseif(TARGET example_transformer AND CORDON_TEST_LAUNCHER STREQUAL "")
    add_test(NAME compute_opencl.main_example_runs_with_device_opencl
      COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/check-example-opencl.sh" $<TARGET_FILE:example_transformer>)
    set_tests_properties(compute_opencl.main_example_runs_with_device_opencl PROPERTIES
      LABELS "compute_opencl" SKIP_RETURN_CODE 77 TIMEOUT 300)
  endif()
  get_property(_tests DIRECTORY PROPERTY TESTS)
  foreach(_t IN LISTS _tests)
    if(_t MATCHES "^compute_opencl\\.")
      set_property(TEST "${_t}" APPEND PROPERTY ENVIRONMENT "POCL_CACHE_DIR=${PROJECT_BINARY_DIR}/pocl-cache"
        "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan-opencl.supp")
    endif()
  endforeach()
endfunction()
cmake_language(DEFER CALL cordon_opencl_tests_finish)
