# The packaging tests (included from CMakeLists.txt when FLOWDB_BUILD_TESTS): the
# libraries as built, what installing gives, consumers of each kind, the ABI
# baseline and the cross-compiling configuration. Each takes seconds; they share
# the one cargo build.
set(_flowdb_pkg ${PROJECT_SOURCE_DIR}/tests/packaging)

# A project outside the tree, against the installed package: find_package (shared,
# static, C++) and pkg-config (flowdb.pc, flowdb-static.pc).
add_test(NAME installed_package_consumer
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cmake-consumer/run.sh ${PROJECT_BINARY_DIR} ${FLOWDB_SONAME})
# A project that takes flowdb in with add_subdirectory of this checkout, reusing
# this build's cargo output.
add_test(NAME cmake_subproject_consumer
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cmake-subproject/run.sh ${PROJECT_BINARY_DIR} ${FLOWDB_CARGO_DIR} ${FLOWDB_SONAME} add_subdirectory)
# The same consumer taking flowdb with FetchContent_Declare/FetchContent_MakeAvailable.
add_test(NAME cmake_fetchcontent_consumer
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cmake-subproject/run.sh ${PROJECT_BINARY_DIR} ${FLOWDB_CARGO_DIR} ${FLOWDB_SONAME} FetchContent)
# `cc -static ... $(pkg-config --static --libs flowdb)`: a fully static program.
add_test(NAME pkgconfig_static_consumer
  COMMAND sh ${_flowdb_pkg}/static-link.sh ${PROJECT_BINARY_DIR} ${CMAKE_C_COMPILER})
# The installed files, links and components; --strip.
add_test(NAME install_layout
  COMMAND sh ${_flowdb_pkg}/install-layout.sh ${PROJECT_BINARY_DIR} ${PROJECT_VERSION} ${FLOWDB_SOVERSION})

# The libraries in <build>/lib: SONAME and links; only flowdb_* exported by either
# (the shared one in the version node FLOWDB_<soversion>); debug info split off.
set(_check sh ${_flowdb_pkg}/check-libraries.sh ${FLOWDB_LIB_DIR} ${PROJECT_VERSION} ${FLOWDB_SOVERSION})
add_test(NAME shared_library_has_soname COMMAND ${_check} soname)
add_test(NAME library_exports_only_flowdb COMMAND ${_check} exports)
add_test(NAME shared_library_debug_split COMMAND ${_check} debuginfo)

# The 0.x ABI against its baseline in abi/ (scripts/abi-check.sh --update rewrites it).
if(Python3_FOUND)
  add_test(NAME abi_check COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/abi-check.sh --so ${FLOWDB_SHARED})
endif()

# A program with the system's libzstd and flowdb (static and shared): each gets its
# own zstd. scripts/test-all.sh installs libzstd-dev.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(FLOWDB_ZSTD QUIET IMPORTED_TARGET libzstd)
endif()
if(FLOWDB_ZSTD_FOUND)
  find_library(FLOWDB_ZSTD_ARCHIVE NAMES libzstd.a HINTS ${FLOWDB_ZSTD_LIBRARY_DIRS})
  set(_zstd_variants shared flowdb::flowdb PkgConfig::FLOWDB_ZSTD
                     static flowdb::flowdb_static PkgConfig::FLOWDB_ZSTD)
  if(FLOWDB_ZSTD_ARCHIVE)
    list(APPEND _zstd_variants both_static flowdb::flowdb_static ${FLOWDB_ZSTD_ARCHIVE})
  endif()
  while(_zstd_variants)
    list(POP_FRONT _zstd_variants variant flowdb_lib zstd_lib)
    add_executable(zstd_coexist_${variant} ${_flowdb_pkg}/zstd_coexist.c)
    target_link_libraries(zstd_coexist_${variant} PRIVATE ${flowdb_lib} ${zstd_lib})
    target_include_directories(zstd_coexist_${variant} PRIVATE ${FLOWDB_ZSTD_INCLUDE_DIRS})
    set_target_properties(zstd_coexist_${variant} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
    target_compile_options(zstd_coexist_${variant} PRIVATE ${FLOWDB_WARNINGS})
    add_test(NAME zstd_coexistence_${variant} COMMAND zstd_coexist_${variant})
  endwhile()
else()
  message(STATUS "zstd coexistence tests not built: needs libzstd-dev (pkg-config libzstd)")
endif()

# Cross-compiling for aarch64 is configured (not built) correctly.
add_test(NAME cross_configure_aarch64
  COMMAND sh ${_flowdb_pkg}/cross-configure.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR} ${CMAKE_C_COMPILER} ${CMAKE_GENERATOR})
