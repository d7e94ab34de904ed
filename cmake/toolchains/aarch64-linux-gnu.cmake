# Cross-compiling flowdb for 64-bit ARM Linux (glibc) with Debian's or Ubuntu's cross
# compilers (apt install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu) and the Rust
# standard library for the target (rustup target add aarch64-unknown-linux-gnu):
#
#   cmake -S . -B build-aarch64 -DCMAKE_BUILD_TYPE=Release \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
#   cmake --build build-aarch64
#
# FLOWDB_RUST_TARGET becomes aarch64-unknown-linux-gnu, cargo builds with
# --target aarch64-unknown-linux-gnu and links (and compiles zstd) with the C compiler
# below. docs/install.md, "Cross-compiling".
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Headers, libraries and packages from the target's tree; programs (cargo) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Programs built for aarch64 do not run on the build machine: the tests, the benchmark
# and the Rust tests default to OFF; the examples are built.
