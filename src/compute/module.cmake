# SPDX-License-Identifier: Apache-2.0
# Compute module: per-instruction-set kernel files get their own flags; BLAS is optional.
#
# Kernel levels (src/compute/cpu/kernels_<level>.c), chosen at run time by the device from the features
# src/sys/cpu.c reports; no file is ever compiled with -march=native.
set(_cordon_kdir "${CMAKE_CURRENT_SOURCE_DIR}/compute/cpu")
set(_cordon_kernel_opt "-O3")
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  set(_cordon_novec "-fno-vectorize;-fno-slp-vectorize")
else()
  set(_cordon_novec "-fno-tree-vectorize")
endif()
set_source_files_properties("${_cordon_kdir}/kernels_scalar.c" PROPERTIES
  COMPILE_OPTIONS "${_cordon_kernel_opt};${_cordon_novec};-ffp-contract=off")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i.86)$")
  # Per level: the C table (kernels_<level>.c) and the intrinsic kernels placed in it (rows_, gemm_, bf16_).
  foreach(_cordon_kf kernels_avx2.c rows_avx2.c gemm_avx2.c bf16_avx2.c)
    if(EXISTS "${_cordon_kdir}/${_cordon_kf}")
      set_source_files_properties("${_cordon_kdir}/${_cordon_kf}" PROPERTIES
        COMPILE_OPTIONS "${_cordon_kernel_opt};-mavx2;-mfma;-ffp-contract=fast")
    endif()
  endforeach()
  foreach(_cordon_kf kernels_avx512.c rows_avx512.c gemm_avx512.c bf16_avx512.c)
    if(EXISTS "${_cordon_kdir}/${_cordon_kf}")
      set_source_files_properties("${_cordon_kdir}/${_cordon_kf}" PROPERTIES
        COMPILE_OPTIONS "${_cordon_kernel_opt};-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx2;-mfma;-mprefer-vector-width=512;-ffp-contract=fast")
    endif()
  endforeach()
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  # Advanced SIMD is part of the AArch64 base: no flag enables it, every aarch64 processor runs it.
  foreach(_cordon_kf kernels_neon.c rows_neon.c rows_bwd_neon.c gemm_neon.c bf16_neon.c)
    set_source_files_properties("${_cordon_kdir}/${_cordon_kf}" PROPERTIES
      COMPILE_OPTIONS "${_cordon_kernel_opt};-ffp-contract=fast")
  endforeach()
endif()

# BLAS: matmul/gemv through cblas on the CPU device when found (OpenBLAS from libopenblas-dev).
#   AUTO → used when found; ON → required; OFF → never.
set(CORDON_BLAS "AUTO" CACHE STRING "Use a cblas library for CPU matmul: AUTO, ON or OFF")
set_property(CACHE CORDON_BLAS PROPERTY STRINGS AUTO ON OFF)
set(_cordon_blas_found FALSE)
if(NOT CORDON_BLAS STREQUAL "OFF")
  # openblas_config.h exists only in OpenBLAS's include directory; its cblas.h sits beside it (Debian
  # also ships a netlib cblas.h without OpenBLAS's thread controls in the parent directory).
  find_path(CORDON_CBLAS_INCLUDE_DIR openblas_config.h PATH_SUFFIXES openblas-pthread openblas openblas-openmp)
  find_library(CORDON_OPENBLAS_LIBRARY NAMES openblas)
  if(CORDON_CBLAS_INCLUDE_DIR AND CORDON_OPENBLAS_LIBRARY)
    set(_cordon_blas_found TRUE)
  elseif(CORDON_BLAS STREQUAL "ON")
    message(FATAL_ERROR "CORDON_BLAS=ON but OpenBLAS was not found (Debian: apt-get install libopenblas-dev)")
  endif()
endif()
if(_cordon_blas_found)
  message(STATUS "cordon BLAS: OpenBLAS (${CORDON_OPENBLAS_LIBRARY})")
  list(APPEND CORDON_SYS_DEFINITIONS "CORDON_HAVE_OPENBLAS=1")
  list(APPEND CORDON_SYS_LINK_LIBRARIES "${CORDON_OPENBLAS_LIBRARY}")
  list(APPEND CORDON_PKGCONFIG_LIBS_PRIVATE "-lopenblas")
  set(CORDON_SYS_INCLUDE_DIRS "${CORDON_SYS_INCLUDE_DIRS};${CORDON_CBLAS_INCLUDE_DIR}")
  set(CORDON_COMPUTE_BACKENDS "cpu blas")
else()
  message(STATUS "cordon BLAS: not used (CORDON_BLAS=${CORDON_BLAS})")
  set(CORDON_COMPUTE_BACKENDS "cpu")
endif()
# The OpenCL device kind (src/compute/opencl/module.cmake) adds itself to the list.
include("${CMAKE_CURRENT_LIST_DIR}/opencl/module.cmake")
list(APPEND CORDON_SYS_DEFINITIONS "CORDON_COMPUTE_BACKENDS=\"${CORDON_COMPUTE_BACKENDS}\"")
