// C++ wrapper tests: RAII, exceptions with codes, the non-throwing form, optional
// lookups, range-for scans (to the end and stopped early), moves.
#include "flowdb.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

static int failures = 0, checks = 0;
#define CHECK(c)                                                                          \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(c)) { failures++; std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } \
    } while (0)

int main() {
    char base[] = "/tmp/flowdb-cpp-test-XXXXXX";
    if (!mkdtemp(base)) return 2;
    std::string dir = std::string(base) + "/db";
    flowdb::Options opts;
    opts.data_dir(dir).sync_interval_ms(100).auto_background(false).memtable_size_mb(4);
    try {
        opts.memtable_size_mb(0);  // validated at open
        flowdb::Engine::open(opts);
        CHECK(false);
    } catch (const flowdb::Error &e) {
        CHECK(e.code() == FLOWDB_INVALID_ARGUMENT);
        CHECK(std::string(e.what()).find("memtable_size_mb") != std::string::npos);
    }
    opts.memtable_size_mb(4);
    {
        // Tuning: a bad value is named at open; small tables make a full compaction
        // write several.
        flowdb::Options tuned;
        tuned.data_dir(std::string(base) + "/tuned").auto_background(false).zstd_level(0);
        try {
            flowdb::Engine::open(tuned);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_INVALID_ARGUMENT);
            CHECK(std::string(e.what()).find("zstd_level") != std::string::npos);
        }
        tuned.zstd_level(3).block_restart_interval(8).index_partition_blocks(4).target_table_bytes(4096);
        flowdb::Engine db = flowdb::Engine::open(tuned);
        std::vector<flowdb::Record> recs;
        uint32_t x = 1;
        for (int i = 0; i < 2000; i++) {
            std::string v(63, 'a');
            for (int j = 0; j < 63; j++) v[j] = char('a' + ((x = x * 1103515245u + 12345u) >> 24) % 26);
            recs.push_back({"s" + std::to_string(i % 50), i, FLOWDB_NEVER_EXPIRES, v});
        }
        db.write_batch(recs);
        db.flush();
        db.trigger_compaction();
        CHECK(db.stats().sstable_count >= 3);
        CHECK(db.query_by_prefix("s").size() == 2000);
        auto last = db.last_n("s7", 3);
        CHECK(last.size() == 3 && last[0].ts == 1957 && last[2].ts == 1857);
        CHECK(db.snapshot().last_n("s7", 100).size() == 40);
    }
    {
        flowdb::Engine db = flowdb::Engine::open(opts);
        std::optional<flowdb::Engine> second;
        flowdb::Status s = flowdb::Engine::try_open(opts, second);
        CHECK(!s.ok() && s.code == FLOWDB_LOCKED && !second.has_value());
        db.write_batch({{"cpu.a", 1, FLOWDB_NEVER_EXPIRES, "1"}, {"cpu.a", 2, FLOWDB_NEVER_EXPIRES, "2"}, {"cpu.b", 1, FLOWDB_NEVER_EXPIRES, std::string("\0x", 2)}});
        db.write_batch_sync({{"mem.a", 5, FLOWDB_NEVER_EXPIRES, "m"}});
        db.write_batch_ttl({{"old", 1, FLOWDB_NEVER_EXPIRES, "gone"}}, 1);
        CHECK(!db.try_write_batch({{"", 1, FLOWDB_NEVER_EXPIRES, "bad"}}).ok());
        auto r = db.get("cpu.b", 1);
        CHECK(r && r->value.size() == 2 && r->value[0] == '\0');
        CHECK(!db.get("old", 1));
        CHECK(db.get_latest("cpu.a")->ts == 2);
        CHECK(db.query_by_prefix("cpu.").size() == 3);
        CHECK(db.query(flowdb::Range::keys("cpu.b", "mem.a")).size() == 2);
        CHECK(db.query_time_range(1, 1).size() == 2);
        size_t n = 0;
        for (const flowdb::RecordView &v : db.scan(flowdb::Range::all())) {
            CHECK(!v.key.empty());
            n++;
        }
        CHECK(n == 4);
        n = 0;
        for (const auto &v : db.scan(flowdb::Range::prefix("cpu."), false, true)) {
            (void)v;
            if (++n == 1) break;  // stopped early: the scan is freed by its destructor
        }
        CHECK(n == 1);
        db.delete_batch({{"cpu.a", 1}});
        db.delete_range("mem.", "mem/");
        CHECK(db.query(flowdb::Range::all()).size() == 2);
        auto p = db.patch_record("cpu.b", 1, std::string_view("new"), std::nullopt);
        CHECK(p.value == "new");
        try {
            db.patch_record("missing", 1, std::nullopt, 10);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_NOT_FOUND);
        }
        db.flush();
        db.trigger_compaction();
        // Four flushes in one time window: a tiered merge is due, and then none.
        for (const char *k : {"m.a", "m.b", "m.c", "m.d"}) {
            db.write_batch({{k, 1, 0, "v"}});
            db.flush();
        }
        CHECK(db.run_compactions() == 1);
        CHECK(db.run_compactions() == 0);
        CHECK(db.stats().write_amplification > 1.0);
        db.trigger_gc();
        CHECK(db.stats().total_records_written >= 6);
        CHECK(db.metrics_text().find("flowdb_flushes_total") != std::string::npos);
        // A write batch (all or none) and a snapshot (unaffected by later writes).
        flowdb::WriteBatch batch;
        batch.put({"b.x", 1, 0, "zero expire_at: never"}).put_ttl({"b.y", 1, 0, "expired"}, 1);
        batch.put({"b.w", 1, 0, "deleted next"}).remove("b.w", 1).delete_range("b.z", "b.zz");
        CHECK(batch.size() == 5);
        db.write(batch, true);
        CHECK(db.get("b.x", 1) && db.get("b.x", 1)->expire_at == FLOWDB_NEVER_EXPIRES);
        CHECK(!db.get("b.y", 1) && !db.get("b.w", 1));
        batch.clear();
        batch.put({"b.ok", 1, 0, "v"}).delete_range("z", "a");
        try {
            db.write(batch);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_INVALID_ARGUMENT);
            CHECK(std::string(e.what()).find("batch operation 1") != std::string::npos);
        }
        CHECK(!db.get("b.ok", 1));
        flowdb::Snapshot snap = db.snapshot();
        db.write_batch({{"b.x", 2, 0, "later"}});
        db.flush();
        CHECK(!snap.get("b.x", 2) && snap.get_latest("b.x")->ts == 1 && db.get_latest("b.x")->ts == 2);
        CHECK(snap.query(flowdb::Range::prefix("b.")).size() == 1);
        n = 0;
        for (const auto &v : snap.scan(flowdb::Range::prefix("b."))) n += v.ts == 1;
        CHECK(n == 1);
        flowdb::Engine moved = std::move(db);
        moved.close();
        moved.shutdown();
        try {
            snap.get("b.x", 1);  // the snapshot outlived its engine
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_CLOSED);
        }
        try {
            moved.flush();
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_CLOSED);
        }
    }
    flowdb::Engine again = flowdb::Engine::open(opts);
    CHECK(again.get("cpu.b", 1)->value == "new");
    std::string cmd = std::string("rm -rf '") + base + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", base);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
