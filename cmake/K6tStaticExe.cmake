# Executables that start like a Go plugin: k6t's own libraries and the dependencies Debian
# also ships as archives (Abseil, yaml-cpp, libnl) linked in statically, unused sections
# dropped. Each executable loads a handful of shared objects instead of ~50 (40 of
# them Abseil's), which is most of its start-up time.
#
# The shared libraries (libk6t*.so), the installed CMake/pkg-config package and the tests are
# untouched: each k6t library gets a static twin archived from the SAME object files (nothing
# is compiled twice), and only the executables' link lines are rewritten to the twins.
# Dependencies without an archive (spdlog, fmt, libvirt, nftables, OpenSSL, libxml2...) stay
# shared.
#
#   k6t_link_statically(<executable>...)    after every target it links exists

# Imported dependencies taken from their archive when Debian ships one next to the .so.
set(_K6T_STATIC_IMPORTED_RE "^(absl::.*|yaml-cpp|OpenSSL::Crypto)$")
# Plain library paths (pkg-config targets list them) taken from their archive likewise.
set(_K6T_STATIC_PATH_RE "/lib(nl-3|nl-route-3)\\.so(\\.[0-9.]*)?$")

# The archive next to a shared library path, or "" when there is none.
function(_k6t_archive_of so out)
  string(REGEX REPLACE "\\.so(\\.[0-9.]*)?$" ".a" _a "${so}")
  if(NOT _a STREQUAL so AND EXISTS "${_a}")
    set(${out} "${_a}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# The location of an imported library, whatever configuration it was exported for.
function(_k6t_imported_location target out)
  get_target_property(_loc ${target} IMPORTED_LOCATION)
  if(NOT _loc)
    get_target_property(_configs ${target} IMPORTED_CONFIGURATIONS)
    foreach(_c IN LISTS _configs)
      get_target_property(_loc ${target} IMPORTED_LOCATION_${_c})
      if(_loc)
        break()
      endif()
    endforeach()
  endif()
  set(${out} "${_loc}" PARENT_SCOPE)
endfunction()

# Copies the compile-side usage requirements (include dirs, definitions, options, features).
function(_k6t_copy_usage from to)
  foreach(_p INTERFACE_INCLUDE_DIRECTORIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES
             INTERFACE_COMPILE_DEFINITIONS INTERFACE_COMPILE_OPTIONS INTERFACE_COMPILE_FEATURES)
    get_target_property(_v ${from} ${_p})
    if(_v)
      set_property(TARGET ${to} PROPERTY ${_p} "${_v}")
    endif()
  endforeach()
endfunction()

# Maps a list of link items to what a static executable links instead.
function(_k6t_static_items items out)
  set(_mapped "")
  foreach(_item IN LISTS items)
    _k6t_static_item("${_item}" _m)
    list(APPEND _mapped "${_m}")
  endforeach()
  set(${out} "${_mapped}" PARENT_SCOPE)
endfunction()

# Maps one link item: a k6t library or an archive-backed dependency to its static twin, a
# plain path to its archive; anything else stays.
function(_k6t_static_item item out)
  set(${out} "${item}" PARENT_SCOPE)
  if(item MATCHES "^\\$<LINK_ONLY:(.*)>$")
    _k6t_static_item("${CMAKE_MATCH_1}" _inner)
    set(${out} "$<LINK_ONLY:${_inner}>" PARENT_SCOPE)
    return()
  endif()
  if(NOT TARGET "${item}")
    if(item MATCHES "${_K6T_STATIC_PATH_RE}")
      _k6t_archive_of("${item}" _a)
      if(_a)
        set(${out} "${_a}" PARENT_SCOPE)
      endif()
    endif()
    return()
  endif()
  get_target_property(_real "${item}" ALIASED_TARGET)
  if(NOT _real)
    set(_real "${item}")
  endif()
  string(MAKE_C_IDENTIFIER "k6t_static_${_real}" _twin)
  if(TARGET ${_twin})
    set(${out} ${_twin} PARENT_SCOPE)
    return()
  endif()
  get_target_property(_type ${_real} TYPE)
  get_target_property(_imported ${_real} IMPORTED)

  if(_imported)
    if(NOT _real MATCHES "${_K6T_STATIC_IMPORTED_RE}")
      # e.g. PkgConfig::LIBNL: an interface target listing library paths.
      if(_type STREQUAL "INTERFACE_LIBRARY")
        get_target_property(_deps ${_real} INTERFACE_LINK_LIBRARIES)
        if(_deps AND _deps MATCHES "${_K6T_STATIC_PATH_RE}")
          add_library(${_twin} INTERFACE IMPORTED GLOBAL)
          _k6t_finish_twin(${_real} ${_twin} "")
          set(${out} ${_twin} PARENT_SCOPE)
        endif()
      endif()
      return()
    endif()
    if(_type STREQUAL "INTERFACE_LIBRARY")
      add_library(${_twin} INTERFACE IMPORTED GLOBAL)
    else()
      _k6t_imported_location(${_real} _loc)
      _k6t_archive_of("${_loc}" _a)
      if(NOT _a)
        return()  # no archive: stays shared
      endif()
      add_library(${_twin} STATIC IMPORTED GLOBAL)
      set_property(TARGET ${_twin} PROPERTY IMPORTED_LOCATION "${_a}")
    endif()
    _k6t_finish_twin(${_real} ${_twin} "")
    set(${out} ${_twin} PARENT_SCOPE)
    return()
  endif()

  # One of k6t's own targets.
  set(_private "")
  if(_type STREQUAL "INTERFACE_LIBRARY")
    add_library(${_twin} INTERFACE)
  elseif(_type STREQUAL "SHARED_LIBRARY" OR _type STREQUAL "STATIC_LIBRARY")
    # A static twin carries every dependency, the private ones too.
    get_target_property(_private ${_real} LINK_LIBRARIES)
    # Sections per function and datum, so the executables' --gc-sections can drop what no
    # verb reaches; the shared library built from the same objects is unaffected.
    set_property(TARGET ${_real} APPEND PROPERTY COMPILE_OPTIONS -ffunction-sections
                                                               -fdata-sections)
    add_library(${_twin} STATIC $<TARGET_OBJECTS:${_real}>)
    set_target_properties(${_twin} PROPERTIES LINKER_LANGUAGE CXX
                                              ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib/static)
  else()
    return()
  endif()
  _k6t_finish_twin(${_real} ${_twin} "${_private}")
  set(${out} ${_twin} PARENT_SCOPE)
endfunction()

# A twin's usage requirements: the original's, its link dependencies (plus `extra`) mapped.
function(_k6t_finish_twin real twin extra)
  get_target_property(_deps ${real} INTERFACE_LINK_LIBRARIES)
  if(NOT _deps)
    set(_deps "")
  endif()
  if(extra)
    list(APPEND _deps ${extra})
  endif()
  list(REMOVE_DUPLICATES _deps)
  _k6t_copy_usage(${real} ${twin})
  _k6t_static_items("${_deps}" _mapped)
  set_property(TARGET ${twin} PROPERTY INTERFACE_LINK_LIBRARIES "${_mapped}")
endfunction()

function(k6t_link_statically)
  foreach(_exe IN LISTS ARGN)
    get_target_property(_libs ${_exe} LINK_LIBRARIES)
    _k6t_static_items("${_libs}" _mapped)
    set_property(TARGET ${_exe} PROPERTY LINK_LIBRARIES "${_mapped}")
    set_property(TARGET ${_exe} APPEND PROPERTY COMPILE_OPTIONS -ffunction-sections -fdata-sections)
    target_link_options(${_exe} PRIVATE LINKER:--gc-sections LINKER:--as-needed)
  endforeach()
endfunction()
