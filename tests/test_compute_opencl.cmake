# The OpenCL tests: PoCL compiles kernels on first use (seconds each) and caches the result on disk;
# point its cache inside the build tree (tools/check.sh exports the same variable), for every test of
# this file once they exist (they are registered after this file is read, hence the deferred call).
function(cordon_opencl_test_environment)
  get_property(_tests DIRECTORY PROPERTY TESTS)
  foreach(_t IN LISTS _tests)
    if(_t MATCHES "^compute_opencl\\.")
      set_property(TEST "${_t}" APPEND PROPERTY ENVIRONMENT "POCL_CACHE_DIR=${PROJECT_BINARY_DIR}/pocl-cache")
    endif()
  endforeach()
endfunction()
cmake_language(DEFER CALL cordon_opencl_test_environment)
