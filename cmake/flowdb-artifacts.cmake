# Makes the libraries flowdb ships from cargo's static library (run by the build as
# `cmake -DSETTINGS=<file> -P flowdb-artifacts.cmake`; FlowdbLibrary.cmake writes the
# settings: tools, paths, names). In OUT_DIR:
#
#   libflowdb.a                one relocatable object, only flowdb_* global: the Rust
#                              standard library, zstd and every other dependency are
#                              local to it, so they cannot clash with a program's own
#                              (its libzstd, another Rust library); unused code removed
#                              (ld -r --gc-sections); no debug info unless
#                              STATIC_DEBUG_INFO
#   libflowdb.so.X.Y.Z         linked from that object with a version script: exports
#                              flowdb_*@@FLOWDB_<soversion> only, SONAME
#                              libflowdb.so.<soversion>; stripped, with a
#                              .gnu_debuglink to
#   libflowdb.so.X.Y.Z.debug   its debug info (gdb, valgrind, addr2line find it there)
#   libflowdb.so.<soversion>, libflowdb.so   the symlinks
#
# Cargo's own libflowdb.so is not used: rustc gives the linker its own version script
# first, so symbols cannot be versioned from build.rs.
cmake_minimum_required(VERSION 3.18)
include("${SETTINGS}")

set(tmp "${OUT_DIR}/.artifacts.tmp")
file(REMOVE_RECURSE "${tmp}")
file(MAKE_DIRECTORY "${tmp}")

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "flowdb: ${what} failed (${rc}):\n${cmd}\n${out}${err}")
  endif()
endfunction()

# The public functions: the roots of the garbage collection below.
execute_process(COMMAND "${NM}" -g --defined-only "${RAW_STATIC}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE nm_out ERROR_QUIET)
string(REGEX MATCHALL "[0-9a-fA-F]+ [TDBRWV] flowdb_[A-Za-z0-9_]+" defs "${nm_out}")
list(TRANSFORM defs REPLACE ".* " "")
list(REMOVE_DUPLICATES defs)
if(NOT defs)
  message(FATAL_ERROR "flowdb: no flowdb_* symbols in ${RAW_STATIC} (${NM} exit ${rc})")
endif()
set(roots "")
foreach(sym IN LISTS defs)
  list(APPEND roots "-u" "${sym}")
endforeach()

# Every member of the archive into one object, keeping only what the public functions
# reach. If the linker cannot garbage-collect a relocatable link, keep everything.
execute_process(COMMAND "${LINKER}" -r --gc-sections ${roots} --whole-archive "${RAW_STATIC}"
  -o "${tmp}/combined.o" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(WARNING "flowdb: `${LINKER} -r --gc-sections` failed, the static library keeps unused code:\n${err}")
  run("combining ${RAW_STATIC}" "${LINKER}" -r --whole-archive "${RAW_STATIC}" -o "${tmp}/combined.o")
endif()

# Localise all but flowdb_*. Drop the LLVM bitcode sections of Rust's standard library:
# merged by ld -r they are no longer valid bitcode, and nm/ar/ld with the LLVM plugin
# fail on them ("Invalid encoding").
run("localising symbols" "${OBJCOPY}" -R .llvmbc -R .llvmcmd -R .llvm_addrsig
  --wildcard --keep-global-symbol=flowdb_* "${tmp}/combined.o" "${tmp}/flowdb-debug.o")
if(STATIC_DEBUG_INFO)
  file(RENAME "${tmp}/flowdb-debug.o" "${tmp}/flowdb.o")
  set(shared_input "${tmp}/flowdb.o")
else()
  run("stripping the static library" "${OBJCOPY}" --strip-debug "${tmp}/flowdb-debug.o" "${tmp}/flowdb.o")
  set(shared_input "${tmp}/flowdb-debug.o")
endif()
run("archiving" "${AR}" rcs "${tmp}/libflowdb.a" "${tmp}/flowdb.o")

# The shared library: flowdb_* in the version node, everything else local.
file(WRITE "${tmp}/flowdb.map" "${VERSION_NODE} {\n  global:\n    flowdb_*;\n  local:\n    *;\n};\n")
set(libs "")
foreach(l IN LISTS SYSTEM_LIBS)
  list(APPEND libs "-l${l}")
endforeach()
run("linking ${REAL_NAME}" "${C_COMPILER}" ${C_LINK_FLAGS} -shared -o "${tmp}/${REAL_NAME}"
  "-Wl,-soname,${SONAME}" "-Wl,--version-script=${tmp}/flowdb.map"
  -Wl,--gc-sections -Wl,-O1 -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--no-undefined
  "${shared_input}" -Wl,--as-needed ${libs})

# Debug info beside it; the library itself stripped and pointing there.
run("extracting debug info" "${OBJCOPY}" --only-keep-debug "${tmp}/${REAL_NAME}" "${tmp}/${REAL_NAME}.debug")
run("stripping ${REAL_NAME}" "${OBJCOPY}" --strip-all "${tmp}/${REAL_NAME}" "${tmp}/stripped.so")
execute_process(COMMAND "${OBJCOPY}" "--add-gnu-debuglink=${REAL_NAME}.debug" stripped.so
  WORKING_DIRECTORY "${tmp}" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "flowdb: adding the debug link failed: ${err}")
endif()

foreach(f libflowdb.a ${REAL_NAME}.debug)
  file(RENAME "${tmp}/${f}" "${OUT_DIR}/${f}")
endforeach()
file(RENAME "${tmp}/stripped.so" "${OUT_DIR}/${REAL_NAME}")
file(CREATE_LINK "${REAL_NAME}" "${OUT_DIR}/${SONAME}" SYMBOLIC)
file(CREATE_LINK "${SONAME}" "${OUT_DIR}/libflowdb.so" SYMBOLIC)
file(REMOVE_RECURSE "${tmp}")
