# Installation (components: runtime, development, and debug, which only an explicit
# `cmake --install <build> --component debug` installs): the headers; the shipped
# libflowdb.so.X.Y.Z with its SONAME link and dev link, libflowdb.a; the split debug
# info; the CMake package (find_package(flowdb)); flowdb.pc and flowdb-static.pc.
# Included from CMakeLists.txt, after FlowdbLibrary.cmake.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(FILES include/flowdb.h include/flowdb.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)
# The parts flowdb.hpp includes (include/flowdb/*.hpp), into <includedir>/flowdb.
install(DIRECTORY include/flowdb/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/flowdb COMPONENT development
  FILES_MATCHING PATTERN "*.hpp")
# The links are installed as links.
install(FILES ${FLOWDB_SHARED} ${FLOWDB_LIB_DIR}/${FLOWDB_SONAME}
  DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime)
install(FILES ${FLOWDB_LIB_DIR}/libflowdb.so ${FLOWDB_STATIC}
  DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
# Beside the library, where its .gnu_debuglink leads gdb, valgrind and addr2line.
install(FILES ${FLOWDB_SHARED}.debug
  DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT debug EXCLUDE_FROM_ALL)
# The shared library is stripped already; `cmake --install --strip` also strips
# libflowdb.a when it was built with FLOWDB_STATIC_DEBUG_INFO (install(FILES) alone
# would ignore --strip).
if(FLOWDB_STATIC_DEBUG_INFO)
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug
        \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/libflowdb.a\" RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR \"stripping libflowdb.a failed\")
      endif()
    endif()" COMPONENT development)
endif()

configure_package_config_file(cmake/flowdbConfig.cmake.in ${PROJECT_BINARY_DIR}/flowdbConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flowdb)
# 0.x: a different minor version is a different ABI (docs/install.md, "ABI policy").
write_basic_package_version_file(${PROJECT_BINARY_DIR}/flowdbConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/flowdbConfig.cmake ${PROJECT_BINARY_DIR}/flowdbConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flowdb COMPONENT development)

# pkg-config: flowdb.pc (the shared library; with --static, the static one and its
# system libraries) and flowdb-static.pc (libflowdb.a by path, the C library shared).
# Installed ones find the prefix from their own directory (relocatable); a second set
# in <build>/pkgconfig-build uses the build tree without installing.
function(flowdb_pkgconfig_files dir)
  list(JOIN ARGN "\n" FLOWDB_PC_PATHS)
  foreach(pc flowdb flowdb-static)
    configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${dir}/${pc}.pc @ONLY)
  endforeach()
endfunction()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  flowdb_pkgconfig_files(${PROJECT_BINARY_DIR}/pkgconfig-install
    "# Absolute paths (CMAKE_INSTALL_LIBDIR or CMAKE_INSTALL_INCLUDEDIR is absolute)."
    "prefix=${CMAKE_INSTALL_PREFIX}"
    "libdir=${CMAKE_INSTALL_FULL_LIBDIR}"
    "includedir=${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _flowdb_up /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
  string(REGEX REPLACE "/$" "" _flowdb_up "${_flowdb_up}")
  flowdb_pkgconfig_files(${PROJECT_BINARY_DIR}/pkgconfig-install
    "# Relocatable: paths are relative to this file's directory (<libdir>/pkgconfig)."
    "prefix=\${pcfiledir}/${_flowdb_up}"
    "libdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}"
    "includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
flowdb_pkgconfig_files(${PROJECT_BINARY_DIR}/pkgconfig-build
  "# flowdb straight from a CMake build tree (not relocatable): PKG_CONFIG_PATH=<build>/pkgconfig-build"
  "libdir=${FLOWDB_LIB_DIR}"
  "includedir=${PROJECT_SOURCE_DIR}/include")
install(FILES ${PROJECT_BINARY_DIR}/pkgconfig-install/flowdb.pc ${PROJECT_BINARY_DIR}/pkgconfig-install/flowdb-static.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)
