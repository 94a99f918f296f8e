# sealbox_cc_library(NAME name SRCS ... DEPS ... [PRIVATE_DEPS ...])
# One static library per folder; DEPS names only what the layer may use, so a
# wrong include fails the build (and scripts/check_deps checks the headers).
function(sealbox_cc_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${A_NAME} STATIC ${A_SRCS})
  target_include_directories(${A_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${A_NAME} PUBLIC ${A_DEPS} PRIVATE ${A_PRIVATE_DEPS})
endfunction()

# sealbox_cc_test(NAME name SRCS ... DEPS ...): one gtest binary per layer.
function(sealbox_cc_test)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${A_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
endfunction()
