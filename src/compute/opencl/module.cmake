# SPDX-License-Identifier: Apache-2.0
# The OpenCL device kind: the ICD loader (libOpenCL; Debian ocl-icd-opencl-dev + opencl-headers) and
# CLBlast (libclblast-dev) are linked at build time when found.
#   CORDON_OPENCL=AUTO → used when both are found; ON → required; OFF → never.
# Without them the library still builds: the kind "opencl" is then BACKEND_UNAVAILABLE and
# `cordon info` lists it as "not built in". Included from src/compute/module.cmake.
set(CORDON_OPENCL "AUTO" CACHE STRING "Build the OpenCL device kind (OpenCL + CLBlast): AUTO, ON or OFF")
set_property(CACHE CORDON_OPENCL PROPERTY STRINGS AUTO ON OFF)
set(_cordon_opencl_found FALSE)
if(NOT CORDON_OPENCL STREQUAL "OFF")
  find_path(CORDON_OPENCL_INCLUDE_DIR CL/cl.h)
  find_library(CORDON_OPENCL_LIBRARY NAMES OpenCL)
  find_path(CORDON_CLBLAST_INCLUDE_DIR clblast_c.h)
  find_library(CORDON_CLBLAST_LIBRARY NAMES clblast)
  if(CORDON_OPENCL_INCLUDE_DIR AND CORDON_OPENCL_LIBRARY AND CORDON_CLBLAST_INCLUDE_DIR AND CORDON_CLBLAST_LIBRARY)
    set(_cordon_opencl_found TRUE)
  elseif(CORDON_OPENCL STREQUAL "ON")
    message(FATAL_ERROR "CORDON_OPENCL=ON but OpenCL or CLBlast was not found "
                        "(Debian: apt-get install ocl-icd-opencl-dev opencl-headers libclblast-dev)")
  endif()
endif()
if(_cordon_opencl_found)
  message(STATUS "cordon OpenCL: ${CORDON_OPENCL_LIBRARY} with CLBlast ${CORDON_CLBLAST_LIBRARY}")
  list(APPEND CORDON_SYS_DEFINITIONS "CORDON_HAVE_OPENCL=1")
  # device.c lists the kind only when it is built in.
  list(APPEND CORDON_SAFE_DEFINITIONS "CORDON_HAVE_OPENCL=1")
  list(APPEND CORDON_SYS_LINK_LIBRARIES "${CORDON_CLBLAST_LIBRARY}" "${CORDON_OPENCL_LIBRARY}")
  list(APPEND CORDON_PKGCONFIG_LIBS_PRIVATE "-lclblast" "-lOpenCL")
  set(CORDON_SYS_INCLUDE_DIRS "${CORDON_SYS_INCLUDE_DIRS};${CORDON_OPENCL_INCLUDE_DIR};${CORDON_CLBLAST_INCLUDE_DIR}")
  set(CORDON_COMPUTE_BACKENDS "${CORDON_COMPUTE_BACKENDS} opencl")
  set(CORDON_HAVE_OPENCL TRUE)
else()
  message(STATUS "cordon OpenCL: not built in (CORDON_OPENCL=${CORDON_OPENCL})")
  set(CORDON_HAVE_OPENCL FALSE)
endif()
