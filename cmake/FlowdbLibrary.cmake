# libflowdb: cargo builds the Rust static library (for FLOWDB_RUST_TARGET when
# cross-compiling), flowdb-artifacts.cmake makes the shipped libraries from it in
# <build>/lib, and the imported targets flowdb::flowdb, flowdb::flowdb_static and
# flowdb::flowdb_cpp point there. Included from CMakeLists.txt.

find_program(CARGO cargo REQUIRED)
find_package(Threads REQUIRED)

# The ABI version: the SONAME libflowdb.so.<soversion> and the symbol version node
# FLOWDB_<soversion>. While the major version is 0 every minor release may break the
# ABI, so it carries the minor (libflowdb.so.0.7), as cargo-c names it; from 1.0 on,
# the major alone. docs/install.md, "ABI policy".
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(FLOWDB_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(FLOWDB_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()
set(FLOWDB_SONAME libflowdb.so.${FLOWDB_SOVERSION})
set(FLOWDB_REAL_NAME libflowdb.so.${PROJECT_VERSION})

# The system libraries the static library needs. rustc's `--print native-static-libs`
# gives -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc; libc and the unwinder (gcc_s)
# are left to the C compiler driver, which links libgcc_s into a dynamic program
# and libgcc_eh into a -static one (an explicit -lgcc_s makes -static fail). The
# build-tree targets, the installed CMake package and the pkg-config files all take
# them from this list.
set(FLOWDB_STATIC_SYSTEM_LIBS pthread dl m rt util)
list(TRANSFORM FLOWDB_STATIC_SYSTEM_LIBS REPLACE "^pthread$" "Threads::Threads"
  OUTPUT_VARIABLE FLOWDB_STATIC_SYSTEM_LIBS_CMAKE)
list(TRANSFORM FLOWDB_STATIC_SYSTEM_LIBS PREPEND "-l" OUTPUT_VARIABLE _flowdb_l)
list(JOIN _flowdb_l " " FLOWDB_STATIC_SYSTEM_LIBS_FLAGS)

# The Rust target follows the CMake toolchain: empty (the host) unless
# cross-compiling, then derived from CMAKE_SYSTEM_NAME/CMAKE_SYSTEM_PROCESSOR.
set(_flowdb_triple "")
if(CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
  string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _flowdb_cpu)
  set(_flowdb_env gnu)
  if(CMAKE_C_COMPILER MATCHES "musl" OR CMAKE_C_COMPILER_TARGET MATCHES "musl")
    set(_flowdb_env musl)
  endif()
  if(_flowdb_cpu MATCHES "^(aarch64|arm64)$")
    set(_flowdb_triple aarch64-unknown-linux-${_flowdb_env})
  elseif(_flowdb_cpu MATCHES "^(x86_64|amd64)$")
    set(_flowdb_triple x86_64-unknown-linux-${_flowdb_env})
  elseif(_flowdb_cpu MATCHES "^i[3-6]86$")
    set(_flowdb_triple i686-unknown-linux-${_flowdb_env})
  elseif(_flowdb_cpu MATCHES "^armv7")
    set(_flowdb_triple armv7-unknown-linux-${_flowdb_env}eabihf)
  elseif(_flowdb_cpu MATCHES "^riscv64")
    set(_flowdb_triple riscv64gc-unknown-linux-${_flowdb_env})
  elseif(_flowdb_cpu MATCHES "^(ppc64le|powerpc64le)$")
    set(_flowdb_triple powerpc64le-unknown-linux-${_flowdb_env})
  elseif(_flowdb_cpu STREQUAL "s390x")
    set(_flowdb_triple s390x-unknown-linux-${_flowdb_env})
  endif()
endif()
set(FLOWDB_RUST_TARGET "${_flowdb_triple}" CACHE STRING
  "Rust target triple for cargo --target (empty: the host; derived from the toolchain when cross-compiling)")
if(CMAKE_CROSSCOMPILING AND NOT FLOWDB_RUST_TARGET)
  message(FATAL_ERROR "flowdb: cannot derive the Rust target for ${CMAKE_SYSTEM_NAME}/${CMAKE_SYSTEM_PROCESSOR}; "
    "set FLOWDB_RUST_TARGET (e.g. -DFLOWDB_RUST_TARGET=aarch64-unknown-linux-gnu)")
endif()

# What the C compiler needs to link for the target (clang's --target, a sysroot): for
# the shared library's link, and handed to cargo for zstd's C code and rustc's link.
set(FLOWDB_C_TARGET_FLAGS "")
if(CMAKE_C_COMPILER_TARGET AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  list(APPEND FLOWDB_C_TARGET_FLAGS "--target=${CMAKE_C_COMPILER_TARGET}")
endif()
if(CMAKE_SYSROOT)
  list(APPEND FLOWDB_C_TARGET_FLAGS "--sysroot=${CMAKE_SYSROOT}")
endif()

# cargo's target directory; shared with plain `cargo build` so nothing compiles twice.
set(FLOWDB_CARGO_DIR ${PROJECT_SOURCE_DIR}/target CACHE PATH "cargo target directory for libflowdb")
set(_flowdb_cargo_args build --release -p flowdb-c --manifest-path ${PROJECT_SOURCE_DIR}/Cargo.toml
  --target-dir ${FLOWDB_CARGO_DIR})
set(_flowdb_cargo_env "")
if(FLOWDB_RUST_TARGET)
  list(APPEND _flowdb_cargo_args --target ${FLOWDB_RUST_TARGET})
  set(FLOWDB_CARGO_LIB_DIR ${FLOWDB_CARGO_DIR}/${FLOWDB_RUST_TARGET}/release)
  # cargo links with the toolchain's C compiler; the cc crate (zstd) compiles with it.
  string(MAKE_C_IDENTIFIER "${FLOWDB_RUST_TARGET}" _flowdb_t)
  string(TOUPPER "${_flowdb_t}" _flowdb_T)
  list(APPEND _flowdb_cargo_env CARGO_TARGET_${_flowdb_T}_LINKER=${CMAKE_C_COMPILER}
    CC_${_flowdb_t}=${CMAKE_C_COMPILER} AR_${_flowdb_t}=${CMAKE_AR})
  if(FLOWDB_C_TARGET_FLAGS)
    list(JOIN FLOWDB_C_TARGET_FLAGS " " _flowdb_cflags)
    list(TRANSFORM FLOWDB_C_TARGET_FLAGS PREPEND "-Clink-arg=" OUTPUT_VARIABLE _flowdb_rustflags)
    list(JOIN _flowdb_rustflags " " _flowdb_rustflags)
    list(APPEND _flowdb_cargo_env "CFLAGS_${_flowdb_t}=${_flowdb_cflags}"
      "CARGO_TARGET_${_flowdb_T}_RUSTFLAGS=${_flowdb_rustflags}")
  endif()
else()
  set(FLOWDB_CARGO_LIB_DIR ${FLOWDB_CARGO_DIR}/release)
endif()
set(FLOWDB_CARGO_STATIC ${FLOWDB_CARGO_LIB_DIR}/libflowdb.a)
file(GLOB_RECURSE FLOWDB_RUST_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*.rs ${PROJECT_SOURCE_DIR}/bindings/c/src/*.rs)
add_custom_command(
  OUTPUT ${FLOWDB_CARGO_STATIC}
  COMMAND ${CMAKE_COMMAND} -E env ${_flowdb_cargo_env} ${CARGO} ${_flowdb_cargo_args}
  DEPENDS ${FLOWDB_RUST_SOURCES} ${PROJECT_SOURCE_DIR}/Cargo.toml ${PROJECT_SOURCE_DIR}/bindings/c/Cargo.toml ${PROJECT_SOURCE_DIR}/bindings/c/build.rs
  COMMENT "Building libflowdb with cargo ${FLOWDB_RUST_TARGET}"
  USES_TERMINAL VERBATIM)

# The shipped libraries, in the build tree's lib/ (the installed ones are copies).
option(FLOWDB_STATIC_DEBUG_INFO "Keep the debug info in libflowdb.a (about 10 times its size)" OFF)
set(FLOWDB_LIB_DIR ${PROJECT_BINARY_DIR}/lib)
set(FLOWDB_SHARED ${FLOWDB_LIB_DIR}/${FLOWDB_REAL_NAME})
set(FLOWDB_STATIC ${FLOWDB_LIB_DIR}/libflowdb.a)
foreach(tool LINKER OBJCOPY AR NM)
  if(NOT CMAKE_${tool})
    message(FATAL_ERROR "flowdb: CMAKE_${tool} not found (binutils); it makes the shipped libraries")
  endif()
endforeach()
set(_flowdb_settings ${PROJECT_BINARY_DIR}/flowdb-artifacts-settings.cmake)
file(GENERATE OUTPUT ${_flowdb_settings} CONTENT "# Written by cmake/FlowdbLibrary.cmake for cmake/flowdb-artifacts.cmake
set(RAW_STATIC [==[${FLOWDB_CARGO_STATIC}]==])
set(OUT_DIR [==[${FLOWDB_LIB_DIR}]==])
set(LINKER [==[${CMAKE_LINKER}]==])
set(OBJCOPY [==[${CMAKE_OBJCOPY}]==])
set(AR [==[${CMAKE_AR}]==])
set(NM [==[${CMAKE_NM}]==])
set(C_COMPILER [==[${CMAKE_C_COMPILER}]==])
set(C_LINK_FLAGS [==[${FLOWDB_C_TARGET_FLAGS}]==])
set(SYSTEM_LIBS [==[${FLOWDB_STATIC_SYSTEM_LIBS}]==])
set(REAL_NAME [==[${FLOWDB_REAL_NAME}]==])
set(SONAME [==[${FLOWDB_SONAME}]==])
set(VERSION_NODE [==[FLOWDB_${FLOWDB_SOVERSION}]==])
set(STATIC_DEBUG_INFO ${FLOWDB_STATIC_DEBUG_INFO})
")
add_custom_command(
  OUTPUT ${FLOWDB_STATIC} ${FLOWDB_SHARED} ${FLOWDB_SHARED}.debug ${FLOWDB_LIB_DIR}/${FLOWDB_SONAME} ${FLOWDB_LIB_DIR}/libflowdb.so
  COMMAND ${CMAKE_COMMAND} -DSETTINGS=${_flowdb_settings} -P ${PROJECT_SOURCE_DIR}/cmake/flowdb-artifacts.cmake
  DEPENDS ${FLOWDB_CARGO_STATIC} ${PROJECT_SOURCE_DIR}/cmake/flowdb-artifacts.cmake ${_flowdb_settings}
  COMMENT "Making libflowdb.a and ${FLOWDB_REAL_NAME} (symbols, SONAME, debug info)"
  VERBATIM)
add_custom_target(flowdb_cargo ALL DEPENDS ${FLOWDB_STATIC} ${FLOWDB_SHARED} ${FLOWDB_LIB_DIR}/${FLOWDB_SONAME})

add_library(flowdb SHARED IMPORTED GLOBAL)
set_target_properties(flowdb PROPERTIES
  IMPORTED_LOCATION ${FLOWDB_SHARED}
  IMPORTED_SONAME ${FLOWDB_SONAME}
  INTERFACE_INCLUDE_DIRECTORIES ${PROJECT_SOURCE_DIR}/include)
add_dependencies(flowdb flowdb_cargo)
add_library(flowdb::flowdb ALIAS flowdb)

add_library(flowdb_static STATIC IMPORTED GLOBAL)
set_target_properties(flowdb_static PROPERTIES
  IMPORTED_LOCATION ${FLOWDB_STATIC}
  INTERFACE_INCLUDE_DIRECTORIES ${PROJECT_SOURCE_DIR}/include
  INTERFACE_LINK_LIBRARIES "${FLOWDB_STATIC_SYSTEM_LIBS_CMAKE}")
add_dependencies(flowdb_static flowdb_cargo)
add_library(flowdb::flowdb_static ALIAS flowdb_static)

# The header-only C++17 wrapper (include/flowdb.hpp and its parts in include/flowdb/)
# over the shared library.
add_library(flowdb_cpp INTERFACE)
target_link_libraries(flowdb_cpp INTERFACE flowdb::flowdb)
target_compile_features(flowdb_cpp INTERFACE cxx_std_17)
add_library(flowdb::flowdb_cpp ALIAS flowdb_cpp)
