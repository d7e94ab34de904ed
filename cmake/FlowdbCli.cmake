# The flowdb command-line program (src/bin/flowdb, cargo feature `cli`): built by cargo
# beside the library and installed into bin/ (component runtime); its tests (which run
# the real binary) registered with ctest. docs/cli.md. Included from CMakeLists.txt,
# after FlowdbLibrary.cmake (cargo's directory, the Rust target).

option(FLOWDB_BUILD_CLI "Build and install the flowdb command-line program" ${FLOWDB_IS_TOP_LEVEL})
if(NOT FLOWDB_BUILD_CLI)
  return()
endif()

set(_flowdb_cli_args build --release --features cli --bin flowdb
  --manifest-path ${PROJECT_SOURCE_DIR}/Cargo.toml --target-dir ${FLOWDB_CARGO_DIR})
if(FLOWDB_RUST_TARGET)
  list(APPEND _flowdb_cli_args --target ${FLOWDB_RUST_TARGET})
endif()
set(FLOWDB_CLI ${FLOWDB_CARGO_LIB_DIR}/flowdb)
file(GLOB_RECURSE _flowdb_cli_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*.rs)
add_custom_command(
  OUTPUT ${FLOWDB_CLI}
  COMMAND ${CMAKE_COMMAND} -E env ${_flowdb_cargo_env} ${CARGO} ${_flowdb_cli_args}
  DEPENDS ${_flowdb_cli_sources} ${PROJECT_SOURCE_DIR}/Cargo.toml
  COMMENT "Building the flowdb command-line program with cargo"
  USES_TERMINAL VERBATIM)
add_custom_target(flowdb_cli ALL DEPENDS ${FLOWDB_CLI})
install(PROGRAMS ${FLOWDB_CLI} DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

if(FLOWDB_BUILD_TESTS AND FLOWDB_RUST_TESTS)
  enable_testing()
  # tests/cli.rs runs the binary cargo builds for its tests; the program's unit tests too.
  add_test(NAME cli_tests COMMAND ${CARGO} test --features cli --test cli --bin flowdb
    --manifest-path ${PROJECT_SOURCE_DIR}/Cargo.toml)
  set_tests_properties(cli_tests PROPERTIES TIMEOUT 900)
endif()
