// C++ wrapper tests of the operational calls: checkpoint() and backup_to() (the copies
// open; an existing destination throws), open_read_only() beside a writing Engine of
// this process with catch_up() and FLOWDB_READ_ONLY writes, background_error() and
// resume() on a healthy engine, and event listeners: a std::function owned by the
// Engine or JsonDB, kept at a stable address through moves, removed (after its last
// call) by clear_event_listener, replacement and the destructor, its exceptions caught
// before they reach C. A real background error needs a failing disk: the Rust tests
// (tests/background_errors.rs) cover that with a fault-injecting file system. And
// merges for reads: range reads that pay for merging the runs they read.
#include "flowdb.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

static int failures = 0, checks = 0;
#define CHECK(c)                                                                          \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(c)) { failures++; std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } \
    } while (0)

// Runs f, which must throw a flowdb::Error with `code`.
template <class F>
static void throws(flowdb_status_t code, F &&f) {
    try {
        f();
        CHECK(!"no exception");
    } catch (const flowdb::Error &e) {
        CHECK(e.code() == code);
    }
}

static flowdb::Options options(const std::string &dir) {
    flowdb::Options o;
    o.data_dir(dir).auto_background(false);
    return o;
}

static bool has(const flowdb::Engine &db, const std::string &key, int64_t ts, const std::string &value) {
    std::optional<flowdb::Record> r = db.get(key, ts);
    return r && r->value == value;
}

// Two flushes and a merge of their tables: two flush events and one compaction.
static void flush_twice_and_compact(flowdb::Engine &db, int64_t ts) {
    db.write_batch({{"m", ts, 0, "a"}});
    db.flush();
    db.write_batch({{"m", ts + 1, 0, "b"}});
    db.flush();
    CHECK(db.trigger_compaction());
}

static void checkpoints(const std::string &base) {
    flowdb::Engine db = flowdb::Engine::open(options(base + "/src"));
    db.write_batch({{"cpu", 1, 0, "flushed"}});
    db.flush();
    db.write_batch({{"cpu", 2, 0, "memtable"}});
    const flowdb::Engine &reader = db;  // a copy does not change the database
    reader.checkpoint(base + "/cp");
    reader.backup_to(base + "/bk");
    db.write_batch({{"cpu", 3, 0, "after"}});
    throws(FLOWDB_INVALID_ARGUMENT, [&] { db.checkpoint(base + "/cp"); });
    throws(FLOWDB_INVALID_ARGUMENT, [&] { db.backup_to(base + "/src"); });
    for (const char *name : {"/cp", "/bk"}) {
        flowdb::Engine copy = flowdb::Engine::open(options(base + name));
        CHECK(has(copy, "cpu", 1, "flushed") && has(copy, "cpu", 2, "memtable"));
        CHECK(!copy.get("cpu", 3));
    }
    flowdb::Status s = flowdb::attempt([&] { db.checkpoint(base + "/cp"); });
    CHECK(s.code == FLOWDB_INVALID_ARGUMENT && s.message.find("exists") != std::string::npos);
}

static void read_only(const std::string &base) {
    const std::string dir = base + "/ro";
    flowdb::Engine w = flowdb::Engine::open(options(dir));
    w.write_batch({{"k", 1, 0, "one"}});
    w.flush();
    w.write_batch({{"k", 2, 0, "two"}});
    flowdb::Engine r = flowdb::Engine::open_read_only(options(dir));  // w holds the lock
    CHECK(has(r, "k", 1, "one") && has(r, "k", 2, "two"));
    w.write_batch({{"k", 3, 0, "three"}});
    CHECK(!r.get("k", 3));
    r.catch_up();
    CHECK(has(r, "k", 3, "three"));
    w.catch_up();  // a writer: nothing to do
    throws(FLOWDB_READ_ONLY, [&] { r.write_batch({{"k", 4, 0, "x"}}); });
    throws(FLOWDB_READ_ONLY, [&] { r.flush(); });
    throws(FLOWDB_READ_ONLY, [&] { r.trigger_compaction(); });
    CHECK(!w.get("k", 4));
    CHECK(!r.background_error());
    throws(FLOWDB_NOT_FOUND, [&] { flowdb::Engine::open_read_only(options(base + "/nothing")); });

    flowdb::JsonDB docs = flowdb::JsonDB::open(options(base + "/ro-docs"));
    docs.create_object_store("users", "id");
    docs.put("users", R"({"id":1})");
    flowdb::JsonDB ro = flowdb::JsonDB::open_read_only(options(base + "/ro-docs"));
    CHECK(ro.count("users") == 1);
    throws(FLOWDB_READ_ONLY, [&] { ro.put("users", R"({"id":2})"); });
    docs.put("users", R"({"id":3})");
    ro.catch_up();
    CHECK(ro.count("users") == 2 && ro.get("users", "3").has_value());
}

static void health(const std::string &base) {
    flowdb::Engine db = flowdb::Engine::open(options(base + "/health"));
    const flowdb::Engine &c = db;
    CHECK(!c.background_error().has_value());
    db.resume();  // nothing to resume
    db.write_batch({{"a", 1, 0, "v"}});
    flowdb::JsonDB docs = flowdb::JsonDB::open(options(base + "/health-docs"));
    CHECK(!docs.background_error());
    docs.resume();
    db.shutdown();
    throws(FLOWDB_CLOSED, [&] { c.background_error(); });
    throws(FLOWDB_CLOSED, [&] { db.resume(); });
    throws(FLOWDB_CLOSED, [&] { db.set_event_listener([](const flowdb::Event &) {}); });
}

static void listeners(const std::string &base) {
    flowdb::Engine db = flowdb::Engine::open(options(base + "/events"));
    {
        // Flush and compaction events, with their fields; the listener may call the engine.
        std::vector<flowdb::Event> seen;
        size_t stats_ok = 0;
        db.set_event_listener([&](const flowdb::Event &e) {
            seen.push_back(e);
            stats_ok += db.stats().struct_size > 0;
        });
        flush_twice_and_compact(db, 1);
        db.clear_event_listener();  // waits for the last call: `seen` is complete
        CHECK(seen.size() == 3 && stats_ok == 3);
        if (seen.size() == 3) {
            CHECK(seen[0].kind == flowdb::EventKind::flush && seen[1].kind == flowdb::EventKind::flush);
            CHECK(seen[0].tables_out == 1 && seen[0].bytes > 0 && seen[0].tables_in == 0 && seen[0].message.empty());
            CHECK(seen[2].kind == flowdb::EventKind::compaction && seen[2].tables_in == 2 && seen[2].tables_out >= 1);
            CHECK(seen[2].duration >= std::chrono::microseconds(0) && !seen[2].stops_writes);
            CHECK(std::string(flowdb::to_string(seen[2].kind)) == "compaction");
        }
        // Removed: nothing more.
        flush_twice_and_compact(db, 10);
        db.clear_event_listener();
        CHECK(seen.size() == 3);
    }
    {
        // Exceptions from the listener are caught before C; later events still come.
        int calls = 0;
        db.set_event_listener([&](const flowdb::Event &) {
            if (++calls == 1) throw std::runtime_error("listener failure");
            throw 42;
        });
        flush_twice_and_compact(db, 20);
        db.clear_event_listener();
        CHECK(calls == 3);
    }
    {
        // Replacing: the old function has had its last call and is destroyed.
        auto old_owned = std::make_shared<int>(0), new_owned = std::make_shared<int>(0);
        db.set_event_listener([p = old_owned](const flowdb::Event &) { ++*p; });
        db.write_batch({{"r", 1, 0, "x"}});
        db.flush();
        db.set_event_listener([p = new_owned](const flowdb::Event &) { ++*p; });
        CHECK(*old_owned == 1 && old_owned.use_count() == 1 && new_owned.use_count() == 2);
        db.set_event_listener(nullptr);  // an empty function removes it too
        CHECK(new_owned.use_count() == 1 && *new_owned == 0);
    }
    {
        // Moves keep the listener with its handle (its address stays put); the
        // destructor removes it before freeing the handle, after its last call, however
        // slow that call is.
        auto count = std::make_shared<int>(0);
        auto a = std::make_unique<flowdb::Engine>(flowdb::Engine::open(options(base + "/events-move")));
        a->set_event_listener([count](const flowdb::Event &) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            ++*count;
        });
        flowdb::Engine b = std::move(*a);
        a.reset();  // the moved-from wrapper owns nothing: b's listener lives on
        b.write_batch({{"x", 1, 0, "v"}});
        b.flush();
        flowdb::Engine c = flowdb::Engine::open(options(base + "/events-move-2"));
        c = std::move(b);  // c's old engine goes to b, c gets the listener
        flush_twice_and_compact(c, 5);
        CHECK(count.use_count() == 2);
        { flowdb::Engine gone = std::move(c); }  // destroyed: waits, then frees the function
        CHECK(*count == 4 && count.use_count() == 1);
    }
    {
        // The JsonDB forms; its destructor removes the listener even while a
        // transaction keeps the database alive.
        int flushes = 0;
        auto owned = std::make_shared<int>(0);
        std::optional<flowdb::Transaction> txn;
        {
            flowdb::JsonDB docs = flowdb::JsonDB::open(options(base + "/events-docs"));
            docs.create_object_store("s", "id");
            docs.set_event_listener([&flushes, owned](const flowdb::Event &e) { flushes += e.kind == flowdb::EventKind::flush && owned; });
            docs.put("s", R"({"id":1})");
            docs.engine_flush();
            docs.clear_event_listener();
            CHECK(flushes == 1 && owned.use_count() == 1);
            docs.set_event_listener([&flushes, owned](const flowdb::Event &e) { flushes += e.kind == flowdb::EventKind::flush && owned; });
            docs.put("s", R"({"id":2})");
            docs.engine_flush();
            docs.checkpoint(base + "/events-docs-cp");
            docs.backup_to(base + "/events-docs-bk");
            throws(FLOWDB_INVALID_ARGUMENT, [&] { docs.checkpoint(base + "/events-docs-bk"); });
            txn.emplace(docs.transaction({"s"}, true));
        }
        CHECK(flushes == 2 && owned.use_count() == 1);
        txn->put("s", R"({"id":3})");  // the database lives on in the transaction
        txn->commit();
        txn.reset();
        flowdb::JsonDB copy = flowdb::JsonDB::open(options(base + "/events-docs-cp"));
        CHECK(copy.count("s") == 2);
    }
}

// Range reads over three runs of one window pay for their merge (docs/design.md,
// "Merges for reads"): past the runs' bytes / 64 charges, run_compactions merges them.
static void read_merges(const std::string &base) {
    flowdb::Engine db = flowdb::Engine::open(options(base + "/read-merges"));
    const std::string value(64, 'v');
    for (int64_t f = 1; f <= 3; f++) {
        db.write_batch({{"cpu.a", f, 0, value}, {"cpu.b", f, 0, value}, {"cpu.c", f, 0, value}});
        db.flush();
    }
    const uint64_t due = db.stats().sstable_bytes / 64;
    for (uint64_t i = 0; i * 2 < due + 2; i++) CHECK(db.query_by_prefix("cpu.").size() == 9);
    CHECK(db.run_compactions() == 1);
    flowdb_stats_t s = db.stats();
    CHECK(s.total_read_merges == 1 && s.sstable_count == 1);
    CHECK(has(db, "cpu.b", 2, value) && db.query_by_prefix("cpu.").size() == 9);
}

int main() {
    char base[] = "/tmp/flowdb-cpp-operations-XXXXXX";
    if (!mkdtemp(base)) return 2;
    try {
        checkpoints(base);
        read_only(base);
        health(base);
        listeners(base);
        read_merges(base);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        failures++;
    }
    std::string cmd = std::string("rm -rf '") + base + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", base);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
