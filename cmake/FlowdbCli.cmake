# The flowdb command-line program (src/bin/flowdb, cargo feature `cli`): built by cargo
# beside the library and installed into bin/ (component runtime). docs/cli.md.
# Included from CMakeLists.txt, after FlowdbLibrary.cmake (cargo's directory, the Rust
# target).

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

# Its tests (tests/cli.rs, which runs the binary cargo builds for its tests, and the
# program's unit tests) run in ctest's rust_tests (CMakeLists.txt), whose `cargo test
# --workspace --all-targets` has the `cli` feature when the program is built: a test
# of their own ran them again, and waited on cargo's build lock meanwhile (a ctest
# slot held for about 200 s of CI).
