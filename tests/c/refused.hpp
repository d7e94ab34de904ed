// What the C++ tests share about names handed to C as NUL-terminated strings: a
// name holding a NUL byte must be refused (FLOWDB_INVALID_ARGUMENT naming it), not
// cut short at the NUL.
#ifndef FLOWDB_TESTS_REFUSED_HPP
#define FLOWDB_TESTS_REFUSED_HPP

#include <cstdio>
#include <string>

#include "flowdb.hpp"

// Whether `f()` throws FLOWDB_INVALID_ARGUMENT with a message naming `what` and the
// NUL byte (what else it threw is printed).
template <class F>
bool refused_nul(F &&f, const char *what) {
    try {
        f();
    } catch (const flowdb::Error &e) {
        std::string m = e.what();
        if (e.code() == FLOWDB_INVALID_ARGUMENT && m.find(what) != std::string::npos && m.find("NUL") != std::string::npos) return true;
        std::fprintf(stderr, "  threw %s\n", e.what());
    }
    return false;
}

#endif
