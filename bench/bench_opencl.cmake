# SPDX-License-Identifier: Apache-2.0
# Peer for `cordon bench opencl`: OpenCL and CLBlast called directly (the same GEMM and an equivalent
# small kernel on a context and queue of the bench's own), optional like every peer.
find_path(CORDON_BENCH_CL_INCLUDE CL/cl.h)
find_library(CORDON_BENCH_CL_LIBRARY NAMES OpenCL)
find_path(CORDON_BENCH_CLBLAST_INCLUDE clblast_c.h)
find_library(CORDON_BENCH_CLBLAST_LIBRARY NAMES clblast)
if(CORDON_BENCH_CL_INCLUDE AND CORDON_BENCH_CL_LIBRARY AND CORDON_BENCH_CLBLAST_INCLUDE AND CORDON_BENCH_CLBLAST_LIBRARY)
  add_library(cordon_bench_clblast INTERFACE)
  target_link_libraries(cordon_bench_clblast INTERFACE "${CORDON_BENCH_CLBLAST_LIBRARY}" "${CORDON_BENCH_CL_LIBRARY}")
  target_include_directories(cordon_bench_clblast INTERFACE "${CORDON_BENCH_CL_INCLUDE}" "${CORDON_BENCH_CLBLAST_INCLUDE}")
  target_compile_definitions(cordon_bench_clblast INTERFACE CORDON_BENCH_HAVE_CLBLAST=1)
  list(APPEND CORDON_BENCH_EXTRA_LIBS cordon_bench_clblast)
endif()
