// Writes and reads one record through the installed C++ wrapper.
#include <flowdb.hpp>
#include <cstdio>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    flowdb::Options o;
    o.data_dir(argv[1]);
    flowdb::Engine db = flowdb::Engine::open(o);
    db.write_batch({{"k", 7, FLOWDB_NEVER_EXPIRES, "v"}});
    bool ok = db.get("k", 7).has_value();
    db.shutdown();
    std::printf("c++ consumer %s\n", ok ? "ok" : "failed");
    return ok ? 0 : 1;
}
