# Warnings, sanitizers and the helpers every directory uses to declare targets.
add_compile_options(-Wall -Wextra -Werror -Wno-missing-field-initializers)

# Fuzz builds instrument the libraries too, so libFuzzer sees their coverage.
if(K6T_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(K6T_SANITIZE)
  string(REPLACE "," ";" _k6t_sans "${K6T_SANITIZE}")
  foreach(_s IN LISTS _k6t_sans)
    add_compile_options(-fsanitize=${_s})
    add_link_options(-fsanitize=${_s})
  endforeach()
  add_compile_options(-fno-omit-frame-pointer -fno-sanitize-recover=all)
  # GCC's flow analysis under ASan reports std::function members inside <regex> as
  # maybe-uninitialized (GCC bug 105562 family); the plain build keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()

# k6t_test(NAME <name> LABEL <unit|netns|e2e> SOURCES ... LIBS ... [TIMEOUT s])
# One gtest executable registered with ctest under its label. Tests are discovered per case
# so a failure names the case.
function(k6t_test)
  cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest GTest::gtest_main)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/test-bin)
  # Both variables reach the test through /usr/bin/env as its "emulator": a two-variable
  # ENVIRONMENT does not survive gtest_discover_tests' PROPERTIES list handling.
  set_target_properties(${T_NAME} PROPERTIES CROSSCOMPILING_EMULATOR
    "/usr/bin/env;K6T_SOURCE_DIR=${PROJECT_SOURCE_DIR};K6T_BUILD_DIR=${CMAKE_BINARY_DIR}")
  gtest_discover_tests(${T_NAME}
    PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()
include(GoogleTest)
