# `cmake --install`: the five shared libraries (SONAME = major version), the in-memory kernel
# and launcher fakes for embedders' tests, their public headers, a CMake package
# (find_package(k6t) -> k6t::api, k6t::binding, k6t::dhcp, k6t::domxml, k6t::rpc,
# k6t::binding_testing, k6t::rpc_testing) and pkg-config files. The binaries install
# too, so one prefix holds a working k6t.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(K6T_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/k6t)
set(_k6t_libs k6t_api k6t_binding k6t_dhcp k6t_domxml k6t_rpc)
foreach(_testing k6t_binding_testing k6t_rpc_testing)
  if(TARGET ${_testing})
    list(APPEND _k6t_libs ${_testing})
  endif()
endforeach()
set_target_properties(k6t_api PROPERTIES EXPORT_NAME api)
set_target_properties(k6t_binding PROPERTIES EXPORT_NAME binding)
set_target_properties(k6t_dhcp PROPERTIES EXPORT_NAME dhcp)
set_target_properties(k6t_domxml PROPERTIES EXPORT_NAME domxml)
set_target_properties(k6t_rpc PROPERTIES EXPORT_NAME rpc)
if(TARGET k6t_binding_testing)
  set_target_properties(k6t_binding_testing PROPERTIES EXPORT_NAME binding_testing)
endif()
if(TARGET k6t_rpc_testing)
  set_target_properties(k6t_rpc_testing PROPERTIES EXPORT_NAME rpc_testing)
endif()
# libk6tbinding, libk6tdhcp, libk6tdomxml and libk6trpc find libk6tapi (and libk6tbinding)
# next to themselves wherever the prefix is.
set_target_properties(k6t_api k6t_binding k6t_dhcp k6t_domxml k6t_rpc PROPERTIES INSTALL_RPATH "$ORIGIN")

install(TARGETS ${_k6t_libs} EXPORT k6tTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/api/include/ ${PROJECT_SOURCE_DIR}/libbinding/include/
                  ${PROJECT_SOURCE_DIR}/libdhcp/include/ ${PROJECT_SOURCE_DIR}/librpc/include/
                  ${PROJECT_SOURCE_DIR}/libdomxml/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.h")
if(TARGET k6t_binding_testing)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/libbinding/testing/include/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.h")
endif()
if(TARGET k6t_rpc_testing)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/librpc/testing/include/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.h")
endif()
foreach(_bin k6t-handler k6t-launcher k6t-sidecar)
  if(TARGET ${_bin})
    install(TARGETS ${_bin} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
  endif()
endforeach()
set_target_properties(k6t-handler PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
foreach(_bin k6t-launcher k6t-sidecar)
  if(TARGET ${_bin})
    set_target_properties(${_bin} PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
  endif()
endforeach()

install(EXPORT k6tTargets NAMESPACE k6t:: DESTINATION ${K6T_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/k6tConfig.cmake.in
  ${CMAKE_BINARY_DIR}/k6tConfig.cmake INSTALL_DESTINATION ${K6T_CMAKE_DIR})
# Semantic versioning on PROJECT_VERSION: a request for 0.1 accepts any 0.x >= 0.1.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/k6tConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/k6tConfig.cmake ${CMAKE_BINARY_DIR}/k6tConfigVersion.cmake
        DESTINATION ${K6T_CMAKE_DIR} COMPONENT dev)

# Relocatable: the prefix is found from the .pc file's own place, so `--prefix` at install
# time works as well as CMAKE_INSTALL_PREFIX.
file(RELATIVE_PATH K6T_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" K6T_PC_TO_PREFIX "${K6T_PC_TO_PREFIX}")
foreach(_pc k6t-api k6t-binding k6t-dhcp k6t-domxml k6t-rpc)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${_pc}.pc.in ${CMAKE_BINARY_DIR}/${_pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/${_pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
          COMPONENT dev)
endforeach()
