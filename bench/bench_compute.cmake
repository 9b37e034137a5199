# SPDX-License-Identifier: Apache-2.0
# Peers for `cordon bench compute`, each optional — without one the suite says so and skips its lines:
#  - OpenBLAS (libopenblas-dev): cblas_sgemm / cblas_sgemv called directly (bench code stands outside
#    the cordon, so it may link a foreign library itself);
#  - oneDNN (libdnnl-dev): softmax and LayerNorm through its C API.
# The plain C baselines need only libm.
find_path(CORDON_BENCH_CBLAS_INCLUDE openblas_config.h PATH_SUFFIXES openblas-pthread openblas openblas-openmp)
find_library(CORDON_BENCH_OPENBLAS_LIBRARY NAMES openblas)
if(CORDON_BENCH_CBLAS_INCLUDE AND CORDON_BENCH_OPENBLAS_LIBRARY)
  add_library(cordon_bench_openblas INTERFACE)
  target_link_libraries(cordon_bench_openblas INTERFACE "${CORDON_BENCH_OPENBLAS_LIBRARY}")
  target_include_directories(cordon_bench_openblas INTERFACE "${CORDON_BENCH_CBLAS_INCLUDE}")
  target_compile_definitions(cordon_bench_openblas INTERFACE CORDON_BENCH_HAVE_OPENBLAS=1)
  list(APPEND CORDON_BENCH_EXTRA_LIBS cordon_bench_openblas)
endif()
find_path(CORDON_BENCH_DNNL_INCLUDE oneapi/dnnl/dnnl.h)
find_library(CORDON_BENCH_DNNL_LIBRARY NAMES dnnl)
if(CORDON_BENCH_DNNL_INCLUDE AND CORDON_BENCH_DNNL_LIBRARY)
  add_library(cordon_bench_dnnl INTERFACE)
  target_link_libraries(cordon_bench_dnnl INTERFACE "${CORDON_BENCH_DNNL_LIBRARY}")
  target_include_directories(cordon_bench_dnnl INTERFACE "${CORDON_BENCH_DNNL_INCLUDE}")
  target_compile_definitions(cordon_bench_dnnl INTERFACE CORDON_BENCH_HAVE_DNNL=1)
  list(APPEND CORDON_BENCH_EXTRA_LIBS cordon_bench_dnnl)
endif()
find_library(CORDON_BENCH_LIBM m)
if(CORDON_BENCH_LIBM)
  list(APPEND CORDON_BENCH_EXTRA_LIBS "${CORDON_BENCH_LIBM}")
endif()
