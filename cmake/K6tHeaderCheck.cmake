# Every public header stands alone: each is compiled in a translation unit of its own (twice,
# for the include guard) against nothing but its library's public usage requirements, so a
# header that leans on a private header or on an include it does not make fails the build.
# Quoted includes in public headers may only name k6t/ or absl/ (the documented public
# dependency); anything else stops configuration.
function(k6t_check_public_headers target include_dir)
  # The plain build checks them; a sanitized build would compile the same headers again.
  if(K6T_SANITIZE)
    return()
  endif()
  file(GLOB_RECURSE _headers RELATIVE ${include_dir} CONFIGURE_DEPENDS ${include_dir}/*.h)
  set(_sources)
  foreach(_h IN LISTS _headers)
    file(STRINGS ${include_dir}/${_h} _includes REGEX "^#include \"")
    foreach(_inc IN LISTS _includes)
      if(NOT _inc MATCHES "^#include \"(k6t|absl)/")
        message(FATAL_ERROR "public header ${_h} includes a private dependency: ${_inc}")
      endif()
    endforeach()
    string(MAKE_C_IDENTIFIER ${_h} _id)
    set(_src ${CMAKE_BINARY_DIR}/header-check/${target}/${_id}.cc)
    file(CONFIGURE OUTPUT ${_src} CONTENT "#include \"${_h}\"\n#include \"${_h}\"\n")
    list(APPEND _sources ${_src})
  endforeach()
  add_library(k6t_header_check_${target} OBJECT ${_sources})
  target_link_libraries(k6t_header_check_${target} PRIVATE ${target})
endfunction()

k6t_check_public_headers(k6t_api ${PROJECT_SOURCE_DIR}/api/include)
k6t_check_public_headers(k6t_binding ${PROJECT_SOURCE_DIR}/libbinding/include)
k6t_check_public_headers(k6t_domxml ${PROJECT_SOURCE_DIR}/libdomxml/include)
k6t_check_public_headers(k6t_rpc ${PROJECT_SOURCE_DIR}/librpc/include)
if(TARGET k6t_binding_testing)
  k6t_check_public_headers(k6t_binding_testing ${PROJECT_SOURCE_DIR}/libbinding/testing/include)
endif()
if(TARGET k6t_rpc_testing)
  k6t_check_public_headers(k6t_rpc_testing ${PROJECT_SOURCE_DIR}/librpc/testing/include)
endif()
