// C++ wrapper tests: RAII, exceptions with codes, the non-throwing form, optional
// lookups, range-for scans (to the end and stopped early), moves.
#include "flowdb.hpp"

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <unistd.h>

static int failures = 0, checks = 0;
#define CHECK(c)                                                                          \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(c)) { failures++; std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } \
    } while (0)

// The timestamps of the live records of one key.
static std::set<int64_t> stamps(flowdb::Engine &db, const std::string &key) {
    std::set<int64_t> out;
    for (const auto &r : db.query(flowdb::Range::keys(key, key))) out.insert(r.ts);
    return out;
}
static std::set<int64_t> span(int64_t lo, int64_t hi, std::set<int64_t> more = {}) {
    for (int64_t t = lo; t <= hi; t++) more.insert(t);
    return more;
}
static void points(flowdb::Engine &db, std::initializer_list<const char *> keys, int64_t from, int64_t to) {
    std::vector<flowdb::Record> recs;
    for (const char *k : keys)
        for (int64_t t = from; t <= to; t++) recs.push_back({k, t, 0, "v"});
    db.write_batch(recs);
}

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
    {
        // Deleting by time: half-open keys, inclusive times, ts < cutoff; on a table
        // and the memtable; then the batch forms, and the errors.
        flowdb::Options o;
        o.data_dir(std::string(base) + "/by-time").auto_background(false);
        flowdb::Engine db = flowdb::Engine::open(o);
        points(db, {"cpu.a", "cpu.b", "cpu.c", "mem.a"}, 1, 5);
        db.flush();
        points(db, {"cpu.a", "cpu.b", "cpu.c", "mem.a"}, 6, 10);
        db.delete_time_range("cpu.a", "cpu.c", 3, 5);  // cpu.c is the excluded end
        CHECK(stamps(db, "cpu.a") == span(1, 2, span(6, 10)));
        CHECK(stamps(db, "cpu.b") == span(1, 2, span(6, 10)));
        CHECK(stamps(db, "cpu.c") == span(1, 10));
        CHECK(stamps(db, "mem.a") == span(1, 10));
        try {
            db.delete_time_range("cpu.a", "cpu.z", 9, 8);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_INVALID_ARGUMENT);
            CHECK(std::string(e.what()).find("ts_start") != std::string::npos);
        }
        try {
            db.delete_time_range("mem.", "cpu.", 1, 10);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_INVALID_ARGUMENT);
        }
        db.delete_time_range("cpu.c", "cpu.c", INT64_MIN, INT64_MAX);  // empty: nothing
        db.delete_before(INT64_MIN);
        CHECK(db.query(flowdb::Range::all()).size() == 34);
        db.delete_prefix_before("mem.", 4);
        CHECK(stamps(db, "mem.a") == span(4, 10));
        CHECK(stamps(db, "cpu.c") == span(1, 10));
        db.delete_before(2);
        CHECK(stamps(db, "cpu.a") == span(2, 2, span(6, 10)));
        CHECK(stamps(db, "cpu.c") == span(2, 10));
        CHECK(stamps(db, "mem.a") == span(4, 10));
        CHECK(db.query(flowdb::Range::all()).size() == 28);
        CHECK(!db.get("cpu.a", 3) && db.get("cpu.c", 3) && db.get_latest("mem.a")->ts == 10);
        db.flush();
        db.trigger_compaction();
        CHECK(db.query(flowdb::Range::all()).size() == 28);
        CHECK(stamps(db, "cpu.b") == span(2, 2, span(6, 10)));

        points(db, {"dsk.a", "dsk.b", "net.a"}, 1, 10);
        flowdb::WriteBatch b;
        b.delete_time_range("dsk.a", "dsk.b", 5, 7).delete_prefix_before("net.", 9).delete_before(3);
        b.delete_before(INT64_MIN).delete_prefix_before("x", INT64_MIN);  // nothing, no operation
        b.put({"dsk.a", 6, 0, "back"});  // after the delete it falls in: it stays
        CHECK(b.size() == 4);
        db.write(b);
        CHECK(stamps(db, "dsk.a") == span(3, 4, span(8, 10, {6})));
        CHECK(stamps(db, "dsk.b") == span(3, 10));
        CHECK(stamps(db, "net.a") == span(9, 10));
        CHECK(stamps(db, "cpu.c") == span(3, 10));
        CHECK(db.get("dsk.a", 6)->value == "back");
        b.clear();
        b.put({"dsk.a", 1, 0, "never written"}).delete_time_range("a", "z", 9, 1);
        try {
            db.write(b);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_INVALID_ARGUMENT);
            CHECK(std::string(e.what()).find("batch operation 1") != std::string::npos);
        }
        CHECK(!db.get("dsk.a", 1));
    }
    {
        // Retention by age (30 days): points 40 days old go, those of a day and an
        // hour ago stay; a second call has nothing due. 0: no limit.
        const int64_t day = 86400LL * 1000000;
        auto now = [] {
            return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        };
        const int64_t t0 = now();
        flowdb::Options o;
        o.data_dir(std::string(base) + "/retention").auto_background(false).retention_max_age_secs(30 * 86400).retention_max_bytes(0);
        flowdb::Engine db = flowdb::Engine::open(o);
        std::vector<flowdb::Record> old, recent;
        for (const char *k : {"cpu.a", "cpu.b"}) {
            for (int64_t t : {t0 - 45 * day, t0 - 40 * day}) old.push_back({k, t, 0, "old"});
            for (int64_t t : {t0 - day, t0 - day / 24}) recent.push_back({k, t, 0, "new"});
        }
        db.write_batch(old);
        db.flush();
        db.write_batch(recent);
        CHECK(db.query(flowdb::Range::all()).size() == 8);
        std::optional<int64_t> cutoff = db.enforce_retention();
        CHECK(cutoff.has_value());
        CHECK(cutoff && *cutoff <= now() - 30 * day && *cutoff > t0 - 31 * day);
        auto left = db.query(flowdb::Range::all());
        CHECK(left.size() == 4);
        for (const auto &r : left) CHECK(r.value == "new");
        for (const auto &r : old) CHECK(!db.get(r.key, r.ts));
        for (const auto &r : recent) CHECK(db.get(r.key, r.ts));
        CHECK(db.stats().total_retention_deletes == 1 && db.stats().total_tables_deleted >= 1);
        CHECK(!db.enforce_retention());
        CHECK(db.stats().total_retention_deletes == 1);
        CHECK(db.query(flowdb::Range::all()).size() == 4);
        db.shutdown();
        try {
            db.enforce_retention();
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_CLOSED);
        }
        flowdb::Options none;
        none.data_dir(std::string(base) + "/no-retention").auto_background(false).retention_max_age_secs(0);
        flowdb::Engine keep = flowdb::Engine::open(none);
        keep.write_batch(old);
        CHECK(!keep.enforce_retention() && keep.query(flowdb::Range::all()).size() == 4);
    }
    flowdb::Engine again = flowdb::Engine::open(opts);
    CHECK(again.get("cpu.b", 1)->value == "new");
    std::string cmd = std::string("rm -rf '") + base + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", base);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
