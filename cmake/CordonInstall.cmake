# SPDX-License-Identifier: Apache-2.0
# Installation: headers, both libraries, a CMake package (find_package(cordon) → cordon::cordon and
# cordon::cordon_static) and cordon.pc for pkg-config.
include(CMakePackageConfigHelpers)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/cordon" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.h")
install(TARGETS cordon cordon_static EXPORT cordonTargets
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

set(CORDON_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/cordon")
install(EXPORT cordonTargets NAMESPACE cordon:: DESTINATION "${CORDON_CMAKE_DIR}")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/cordonConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/cordonConfig.cmake" INSTALL_DESTINATION "${CORDON_CMAKE_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/cordonConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY ${CORDON_PACKAGE_COMPATIBILITY})
install(FILES "${PROJECT_BINARY_DIR}/cordonConfig.cmake" "${PROJECT_BINARY_DIR}/cordonConfigVersion.cmake"
        DESTINATION "${CORDON_CMAKE_DIR}")

list(JOIN CORDON_PKGCONFIG_LIBS_PRIVATE " " CORDON_PC_LIBS_PRIVATE)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CORDON_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(CORDON_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(CORDON_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(CORDON_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# The .pc file finds its prefix relative to itself, so an installed tree can be moved (or installed
# with `cmake --install --prefix` elsewhere than CMAKE_INSTALL_PREFIX).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CORDON_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _pc_up "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  set(CORDON_PC_PREFIX "\${pcfiledir}/${_pc_up}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/cordon.pc.in" "${PROJECT_BINARY_DIR}/cordon.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/cordon.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
