// C++ wrapper tests: RAII, exceptions with codes, the non-throwing form, optional
// lookups, range-for scans (to the end and stopped early, newest first, after seeks),
// limits, series listings, moves, every read through a const Engine, sync and the
// deprecated close, metrics labels; builders chained on temporaries, scans stepped
// lazily (a loop stopped after n steps, as std::views::take does), names holding a
// NUL byte refused, the messages of attempt() and of the try_ forms alike.
#include "flowdb.hpp"
#include "refused.hpp"

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

static int failures = 0, checks = 0;
#define CHECK(c)                                                                          \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(c)) { failures++; std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } \
    } while (0)

// Every read compiles on a const Engine (and its snapshot); returns how many records
// and series they found, so that a caller can check they ran.
static size_t read_everything(const flowdb::Engine &db, const std::string &key) {
    size_t n = db.get(key, 1).has_value() + db.get_latest(key).has_value();
    n += db.last_n(key, 3).size() + db.last_n_with(key, 3, [](int64_t, std::string_view) {});
    n += db.query(flowdb::Range::keys(key, key)).size() + db.query_by_prefix(key).size() + db.query_time_range(1, 1).size();
    for (const flowdb::RecordView &v : db.scan(flowdb::Range::prefix(key))) n += v.key == key;
    n += db.series(key).size() + db.series_page(key, "", 10).size();
    n += db.stats().struct_size > 0 && !db.metrics_text().empty() && db.get() != nullptr;
    const flowdb::Snapshot snap = db.snapshot();
    n += snap.get(key, 1).has_value() + snap.get_latest(key).has_value() + snap.last_n(key, 3).size();
    n += snap.last_n_with(key, 3, [](int64_t, std::string_view) {}) + snap.query(flowdb::Range::prefix(key)).size();
    for (const auto &v : snap.scan(flowdb::Range::prefix(key))) n += v.ts > 0;
    n += snap.series(key).size() + snap.series_page(key, "", 10).size();
    flowdb::RecordList none;
    for (const flowdb::RecordView &v : none) n += v.ts;  // a const, empty list iterates
    return n;
}

// The timestamps of the live records of one key.
static std::set<int64_t> stamps(const flowdb::Engine &db, const std::string &key) {
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

// (key, ts) pairs, to compare read orders exactly.
using Seq = std::vector<std::pair<std::string, int64_t>>;
static Seq seq(const std::vector<flowdb::Record> &recs) {
    Seq out;
    for (const auto &r : recs) out.emplace_back(r.key, r.ts);
    return out;
}
// The rest of a scan, through range-for.
static Seq rest(flowdb::Scan &scan) {
    Seq out;
    for (const auto &v : scan) out.emplace_back(std::string(v.key), v.ts);
    return out;
}
// keys (in the order given) each with ts from..to (descending when from > to),
// starting at `first` for the first key, at most `max` pairs.
static Seq expect(std::initializer_list<const char *> keys, int64_t first, bool newest_first, size_t max = 1000) {
    Seq out;
    bool head = true;
    for (const char *k : keys) {
        int64_t t = head ? first : (newest_first ? 10 : 1);
        head = false;
        for (; t >= 1 && t <= 10 && out.size() < max; t += newest_first ? -1 : 1) out.emplace_back(k, t);
    }
    return out;
}
static bool series_are(const std::vector<flowdb::SeriesInfo> &got, std::initializer_list<const char *> keys) {
    if (got.size() != keys.size()) return false;
    size_t i = 0;
    for (const char *k : keys) {
        const auto &s = got[i++];
        if (s.key != k || s.points != 10 || s.first_ts != 1 || s.last_ts != 10) return false;
    }
    return true;
}

// A builder called on a temporary returns it by value (moved), so that a reference
// bound to the chain (`const auto &o = Options().data_dir(d);`) owns it; called on a
// named object it returns a reference to it, as before.
#define BUILDER(T, call)                                                                  \
    static_assert(std::is_same_v<decltype(std::declval<T>().call), T> &&                \
                      std::is_same_v<decltype(std::declval<T &>().call), T &>,          \
                  #T "::" #call)
using flowdb::Options;
using flowdb::WriteBatch;
using flowdb::RollupRule;
BUILDER(Options, data_dir("d"));
BUILDER(Options, default_ttl_secs(1));
BUILDER(Options, sync_always());
BUILDER(Options, sync_interval_ms(1));
BUILDER(Options, gc_interval_secs(1));
BUILDER(Options, memtable_size_mb(1));
BUILDER(Options, max_frozen_memtables(1));
BUILDER(Options, block_size(1));
BUILDER(Options, flush_interval_ms(1));
BUILDER(Options, time_bucket_secs(1));
BUILDER(Options, index_memory_budget_mb(1));
BUILDER(Options, block_cache_capacity_mb(1));
BUILDER(Options, bloom_bits_per_key(1));
BUILDER(Options, wal_segment_size_mb(1));
BUILDER(Options, compaction_threshold(1));
BUILDER(Options, block_compression(FLOWDB_COMPRESSION_LZ4));
BUILDER(Options, zstd_level(1));
BUILDER(Options, block_restart_interval(1));
BUILDER(Options, index_partition_blocks(1));
BUILDER(Options, target_table_bytes(1));
BUILDER(Options, memtables_in_block_cache(true));
BUILDER(Options, retention_max_age_secs(1));
BUILDER(Options, retention_max_bytes(1));
BUILDER(Options, metrics_label("n", "v"));
BUILDER(Options, clear_metrics_labels());
BUILDER(Options, rollup(std::declval<const RollupRule &>()));
BUILDER(Options, clear_rollups());
BUILDER(Options, create_if_missing(true));
BUILDER(Options, auto_background(true));
BUILDER(WriteBatch, put(std::declval<const flowdb::Record &>()));
BUILDER(WriteBatch, put_ttl(std::declval<const flowdb::Record &>(), 1));
BUILDER(WriteBatch, put_point(std::declval<const flowdb::Point &>()));
BUILDER(WriteBatch, put_point_ttl(std::declval<const flowdb::Point &>(), 1));
BUILDER(WriteBatch, remove("k", 1));
BUILDER(WriteBatch, delete_range("a", "b"));
BUILDER(WriteBatch, delete_time_range("a", "b", 1, 2));
BUILDER(WriteBatch, delete_before(1));
BUILDER(WriteBatch, delete_prefix_before("a", 1));
BUILDER(RollupRule, with_prefix("p"));
BUILDER(RollupRule, with_keep_secs(1));
BUILDER(RollupRule, with_delay(1));
BUILDER(flowdb::Range, reverse());
BUILDER(flowdb::Range, limit(1));

// The ts of the records a loop reads from a scan, stepping it at most n times and
// stopping without looking further, as `s | std::views::take(n)` does.
static std::vector<int64_t> take(flowdb::Scan &s, int n) {
    std::vector<int64_t> got;
    auto it = s.begin();
    for (int i = 0; i < n && it != s.end(); i++, ++it) got.push_back(it->ts);
    return got;
}
using Stamps = std::vector<int64_t>;

// Builders chained on temporaries and bound to references (the chain's object lives
// as long as the reference); scans stepped lazily; names holding a NUL byte.
static void temporaries_lazy_scans_and_nul(const std::string &base) {
    const auto &o = flowdb::Options().data_dir(base + "/chained").auto_background(false);
    flowdb::Engine db = flowdb::Engine::open(o);
    const auto &b = flowdb::WriteBatch().put({"c", 1, 0, "one"}).put({"c", 2, 0, "two"}).remove("c", 1);
    CHECK(b.size() == 3);
    db.write(b);
    CHECK(stamps(db, "c") == std::set<int64_t>{2});

    // A scan of ts 1..6: a loop stepping it three times and stopping leaves the fourth
    // record to the next loop (the step reads nothing; the next look at it does).
    points(db, {"lazy"}, 1, 6);
    flowdb::Scan s = db.scan(flowdb::Range::prefix("lazy"));
    CHECK(take(s, 3) == (Stamps{1, 2, 3}));
    CHECK(take(s, 3) == (Stamps{4, 5, 6}));
    CHECK(take(s, 3).empty());
    // begin() reads nothing, and looking (comparing, dereferencing) steps past nothing.
    s.seek("lazy", 0);
    s.begin();
    CHECK(s.begin() != s.end() && s.begin()->ts == 1);
    auto first = s.begin(), again = s.begin();
    CHECK(first->ts == 1 && again->ts == 1 && first == again);
    CHECK(take(s, 6) == (Stamps{1, 2, 3, 4, 5, 6}));
    // next() goes on where the loop stopped; a loop stopped by break (not stepped past
    // its record) hands that record to what reads next.
    s.seek("lazy", 0);
    CHECK(take(s, 2) == (Stamps{1, 2}) && s.next()->ts == 3);
    for (const auto &v : s)
        if (v.ts == 5) break;
    CHECK(s.next()->ts == 5);
    CHECK(take(s, 3) == (Stamps{6}) && !s.next());
    // A seek (or next()) inside a range-for is the loop's step: the loop goes on at
    // the new position (a skip scan of each key's first point lost every other key).
    points(db, {"skip.a", "skip.b", "skip.c", "skip.d"}, 1, 3);
    flowdb::Scan k = db.scan(flowdb::Range::prefix("skip."));
    Seq firsts;
    for (const auto &v : k) {
        firsts.emplace_back(std::string(v.key), v.ts);
        k.seek(std::string(v.key) + '\0', INT64_MIN);
    }
    CHECK((firsts == Seq{{"skip.a", 1}, {"skip.b", 1}, {"skip.c", 1}, {"skip.d", 1}}));
    flowdb::Scan one = db.scan(flowdb::Range::prefix("skip.a"));
    Stamps seen;
    for (const auto &v : one) {
        seen.push_back(v.ts);
        auto w = one.next(); // the record the loop is on; the loop goes on after it
        CHECK(w && w->ts == seen.back());
    }
    CHECK(seen == (Stamps{1, 2, 3}));

    // Names handed to C as NUL-terminated strings: one holding a NUL byte is refused
    // (FLOWDB_INVALID_ARGUMENT naming it), not cut short at the NUL.
    const std::string cut = base + "/cp";
    CHECK(refused_nul([&] { db.checkpoint(cut + std::string("\0x", 2)); }, "dest"));
    CHECK(refused_nul([&] { db.backup_to(cut + std::string("\0x", 2)); }, "dest"));
    CHECK(access(cut.c_str(), F_OK) != 0);  // nothing written at the cut name
    CHECK(refused_nul([&] { db.rollup_watermark(std::string("1m\0x", 4)); }, "name"));
    CHECK(refused_nul([&] { db.rollup_query(std::string("1m\0x", 4), flowdb::Range::all()); }, "name"));
    flowdb::Options n;
    CHECK(refused_nul([&] { n.data_dir(cut + std::string("\0x", 2)); }, "data_dir"));
    CHECK(refused_nul([&] { n.metrics_label(std::string("db\0x", 4), "v"); }, "name"));
    CHECK(refused_nul([&] { n.metrics_label("db", std::string("v\0x", 3)); }, "value"));
    CHECK(refused_nul([&] { n.rollup(flowdb::RollupRule(std::string("1m\0x", 4), 60, {flowdb::Agg::max})); }, "name"));
    CHECK(refused_nul([&] { flowdb::agg_from_name(std::string("sum\0", 4)); }, "name"));
    db.shutdown();
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
        // Block compression: LZ4 tables read back whole under zstd.
        {
            flowdb::Options lz4;
            lz4.data_dir(std::string(base) + "/lz4").auto_background(false).block_compression(FLOWDB_COMPRESSION_LZ4);
            {
                flowdb::Engine db = flowdb::Engine::open(lz4);
                std::vector<flowdb::Record> recs;
                for (int i = 0; i < 3000; i++)
                    recs.push_back({"s" + std::to_string(i % 30), i, FLOWDB_NEVER_EXPIRES,
                                    "reading=" + std::to_string(i * 7) + ";unit=celsius"});
                db.write_batch(recs);
                db.flush();
            }
            lz4.block_compression(FLOWDB_COMPRESSION_ZSTD);
            flowdb::Engine db = flowdb::Engine::open(lz4);
            auto got = db.get("s7", 2977);
            CHECK(got && got->value == "reading=20839;unit=celsius");
        }
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
        // last_n_with: what last_n returns (ts, value bytes, order) on a series half
        // flushed, half in memory; void and bool callables (false after 2 stops), n = 0,
        // the snapshot form not seeing a later write, an exception from the callable.
        flowdb::Options o;
        o.data_dir(std::string(base) + "/lent").auto_background(false);
        flowdb::Engine db = flowdb::Engine::open(o);
        for (int64_t t = 1; t <= 200; t++) {
            std::string v = t % 13 == 0 ? std::string() : "v" + std::to_string(t) + std::string(1, '\0') + "x";
            db.write_batch({{"lu", t, FLOWDB_NEVER_EXPIRES, "u"}, {"lv", t, FLOWDB_NEVER_EXPIRES, v}, {"lw", t, FLOWDB_NEVER_EXPIRES, "w"}});
            if (t == 100) db.flush();
        }
        using Lent = std::vector<std::pair<int64_t, std::string>>;
        auto lent = [](const std::vector<flowdb::Record> &recs) {
            Lent out;
            for (const auto &r : recs) out.emplace_back(r.ts, r.value);
            return out;
        };
        for (uint64_t n : std::initializer_list<uint64_t>{1, 2, 60, 100, 150, 200, 1000}) {
            Lent got;
            uint64_t handed = db.last_n_with("lv", n, [&](int64_t ts, std::string_view v) { got.emplace_back(ts, std::string(v)); });
            CHECK(handed == (n < 200 ? n : 200) && got.size() == handed);
            CHECK(got == lent(db.last_n("lv", n)));
        }
        size_t calls = 0;
        const auto count = [&](int64_t, std::string_view) { calls++; };  // a const lvalue callable
        CHECK(db.last_n_with("lv", 0, count) == 0 && calls == 0);
        CHECK(db.last_n_with("lx", 10, count) == 0 && calls == 0);
        CHECK(db.last_n_with("lv", 5, count) == 5 && calls == 5);
        std::vector<int64_t> seen;
        CHECK(db.last_n_with("lv", 150, [&](int64_t ts, std::string_view) { seen.push_back(ts); return seen.size() < 2; }) == 2);
        CHECK((seen == std::vector<int64_t>{200, 199}));
        flowdb::Snapshot snap = db.snapshot();
        db.write_batch({{"lv", 201, FLOWDB_NEVER_EXPIRES, "later"}});
        Lent got;
        auto keep = [&](int64_t ts, std::string_view v) { got.emplace_back(ts, std::string(v)); };
        CHECK(snap.last_n_with("lv", 150, keep) == 150);
        CHECK(got == lent(snap.last_n("lv", 150)) && got[0].first == 200);
        got.clear();
        CHECK(db.last_n_with("lv", 1, keep) == 1);
        CHECK(got.size() == 1 && got[0].first == 201 && got[0].second == "later");
        // The callable may read and write through the engine being walked.
        CHECK(db.last_n_with("lv", 2, [&](int64_t ts, std::string_view) {
            db.write_batch({{"lw", ts, FLOWDB_NEVER_EXPIRES, "copied"}});
            return db.get_latest("lv").has_value();
        }) == 2);
        CHECK(db.get("lw", 201).has_value() && db.get("lw", 200).has_value());
        seen.clear();
        CHECK(snap.last_n_with("lv", 10, [&](int64_t ts, std::string_view) { seen.push_back(ts); return seen.size() < 2; }) == 2);
        CHECK((seen == std::vector<int64_t>{200, 199}));
        // An exception from the callable stops the calls and comes out of last_n_with.
        struct Stop {
            int at;
        };
        calls = 0;
        try {
            db.last_n_with("lv", 10, [&](int64_t, std::string_view) {
                if (++calls == 3) throw Stop{3};
            });
            CHECK(false);
        } catch (const Stop &s) {
            CHECK(s.at == 3 && calls == 3);
        }
        db.shutdown();
        try {
            snap.last_n_with("lv", 10, count);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_CLOSED);
        }
    }
    {
        flowdb::Engine db = flowdb::Engine::open(opts);
        std::optional<flowdb::Engine> second;
        flowdb::Status s = flowdb::Engine::try_open(opts, second);
        CHECK(!s.ok() && s.code == FLOWDB_LOCKED && !second.has_value());
        // The same failure through attempt() and as an Error: the same message, which
        // what() prefixes with the code's name.
        flowdb::Status by_attempt = flowdb::attempt([&] { flowdb::Engine::open(opts); });
        CHECK(by_attempt.code == s.code && by_attempt.message == s.message && s.message.find("lock") != std::string::npos);
        try {
            flowdb::Engine::open(opts);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_LOCKED && e.message() == s.message && std::string(e.what()) == "LOCKED: " + s.message);
            const flowdb::Error copy = e;
            CHECK(copy.message() == s.message);
        }
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
        {
            // A builder chained on a temporary and bound to a reference: the
            // reference owns the range (a Range&& once named a destroyed temporary).
            const auto &r = flowdb::Range::prefix("cpu.").reverse().limit(2);
            CHECK(db.query(r).size() == 2);
        }
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
        moved.sync();  // flush + sync: stays open
        moved.write_batch({{"b.s", 1, 0, "after sync"}});
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        moved.close();  // the deprecated name of sync(): still open after it
#pragma GCC diagnostic pop
        CHECK(moved.get("b.s", 1).has_value());
        moved.shutdown();
        try {
            moved.sync();
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_CLOSED);
        }
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
    {
        // Newest first, limits, seeks and series: k.a < k.b < k.c with ts 1..10, ts
        // 1..5 in a table and 6..10 in the memtable.
        flowdb::Options o;
        o.data_dir(std::string(base) + "/newest-first").auto_background(false);
        flowdb::Engine db = flowdb::Engine::open(o);
        points(db, {"k.a", "k.b", "k.c"}, 1, 5);
        db.flush();
        points(db, {"k.a", "k.b", "k.c"}, 6, 10);
        using flowdb::Range;
        const Seq all_desc = expect({"k.c", "k.b", "k.a"}, 10, true);
        CHECK(seq(db.query(Range::all())) == expect({"k.a", "k.b", "k.c"}, 1, false));
        CHECK(seq(db.query(Range::all().reverse())) == all_desc);
        CHECK(seq(db.query(Range::all().reverse().limit(4))) == expect({"k.c"}, 10, true, 4));
        CHECK(seq(db.query(Range::all().limit(3))) == expect({"k.a"}, 1, false, 3));
        CHECK(db.query(Range::all().limit(0)).empty());
        CHECK(db.query(Range::all().reverse().limit(0)).empty());
        CHECK(seq(db.query(Range::prefix("k.").reverse(true).reverse(false))) == expect({"k.a", "k.b", "k.c"}, 1, false));
        CHECK(seq(db.query(Range::keys_time("k.b", "k.c", 3, 4).reverse())) == (Seq{{"k.c", 4}, {"k.c", 3}, {"k.b", 4}, {"k.b", 3}}));
        // Newest first in a range-for.
        {
            Seq got;
            for (const flowdb::RecordView &v : db.scan(Range::all().reverse())) got.emplace_back(std::string(v.key), v.ts);
            CHECK(got == all_desc);
            Range newest = Range::prefix("k.");
            newest.reverse().limit(4);
            got.clear();
            for (const auto &v : db.scan(newest)) got.emplace_back(std::string(v.key), v.ts);
            CHECK(got == expect({"k.c"}, 10, true, 4));
        }
        // Seek forwards (Seek) into the second key, after reading two.
        {
            flowdb::Scan scan = db.scan(Range::all());
            CHECK(scan.next() && scan.next());
            scan.seek("k.b", 5);
            CHECK(rest(scan) == expect({"k.b", "k.c"}, 5, false));
            scan.seek("k.bb", 0);  // absent: the next key; the ended scan yields again
            CHECK(rest(scan) == expect({"k.c"}, 1, false));
            scan.seek("k.c", 11);
            CHECK(rest(scan).empty());
        }
        // Seek in reverse (SeekForPrev): at or before, then backwards.
        {
            flowdb::Scan scan = db.scan(Range::all().reverse());
            scan.seek("k.b", 5);
            CHECK(rest(scan) == expect({"k.b", "k.a"}, 5, true));
            scan.seek("k.bb", 0);
            CHECK(rest(scan) == expect({"k.b", "k.a"}, 10, true));
            scan.seek("k.a", 0);
            CHECK(rest(scan).empty());
        }
        // Outside the range k.b..k.c: before restarts, beyond ends, in both directions.
        {
            flowdb::Scan fwd = db.scan(Range::keys("k.b", "k.c"));
            fwd.seek("k.a", 3);
            CHECK(rest(fwd) == expect({"k.b", "k.c"}, 1, false));
            fwd.seek("k.d", 0);
            CHECK(rest(fwd).empty());
            flowdb::Scan back = db.scan(Range::keys("k.b", "k.c").reverse());
            back.seek("k.z", 0);
            CHECK(rest(back) == expect({"k.c", "k.b"}, 10, true));
            back.seek("k.a", 99);
            CHECK(rest(back).empty());
            // The limit counts again from each seek: pages of 3.
            flowdb::Scan pages = db.scan(Range::keys("k.b", "k.c").limit(3));
            CHECK(rest(pages) == expect({"k.b"}, 1, false, 3));
            pages.seek("k.b", 9);
            CHECK(rest(pages) == (Seq{{"k.b", 9}, {"k.b", 10}, {"k.c", 1}}));
        }
        // Series: merged from the memtable and the table, then after a full compaction.
        CHECK(series_are(db.series(""), {"k.a", "k.b", "k.c"}));
        db.flush();
        db.trigger_compaction();
        CHECK(series_are(db.series(""), {"k.a", "k.b", "k.c"}));
        CHECK(series_are(db.series(), {"k.a", "k.b", "k.c"}));
        auto page = db.series_page("k.", "", 2);
        CHECK(series_are(page, {"k.a", "k.b"}));
        CHECK(series_are(db.series_page("k.", page.back().key, 2), {"k.c"}));
        CHECK(db.series_page("k.", "k.c", 2).empty());
        CHECK(db.series_page("", "", 0).empty());
        CHECK(series_are(db.series("k.b"), {"k.b"}));
        CHECK(db.series("nope").empty());
        CHECK(seq(db.query(Range::all().reverse())) == all_desc);
        // A snapshot: its reads ignore later writes, and so does a seek of its scan.
        flowdb::Snapshot snap = db.snapshot();
        flowdb::Scan live = db.scan(Range::all().reverse());
        db.write_batch({{"k.b", 11, 0, "late"}, {"k.d", 1, 0, "late"}});
        live.seek("k.b", INT64_MAX);
        CHECK(rest(live) == expect({"k.b", "k.a"}, 10, true));
        CHECK(seq(snap.query(Range::all().reverse().limit(4))) == expect({"k.c"}, 10, true, 4));
        flowdb::Scan old = snap.scan(Range::all().reverse().limit(4));
        old.seek("k.b", 100);
        CHECK(rest(old) == expect({"k.b"}, 10, true, 4));
        CHECK(series_are(snap.series(""), {"k.a", "k.b", "k.c"}));
        CHECK(series_are(snap.series_page("k.", "k.a", 1), {"k.b"}));
        CHECK(db.series("k.d").size() == 1 && db.series("k.d")[0].points == 1);
        // k.b: ts 1..11. get(1), get_latest, last_n 3, lent 3, query 11, by prefix 11,
        // at ts 1 (k.a..k.d) 4, scan 11, series 1 + 1, stats 1; then the same through a
        // snapshot taken now: 1 + 1 + 3 + 3 + 11, scan 11, series 1 + 1.
        CHECK(read_everything(db, "k.b") == 1 + 1 + 3 + 3 + 11 + 11 + 4 + 11 + 2 + 1 + (1 + 1 + 3 + 3 + 11 + 11 + 2));
        db.shutdown();
        try {
            db.series("");
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_CLOSED);
        }
        try {
            snap.series_page("", "", 1);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_CLOSED);
        }
    }
    {
        // Metrics labels: two engines told apart; a bad name is refused at open.
        flowdb::Options a, b;
        a.data_dir(std::string(base) + "/labels-a").auto_background(false).metrics_label("db", "a").metrics_label("role", "primary");
        b.data_dir(std::string(base) + "/labels-b").auto_background(false).metrics_label("db", "x").clear_metrics_labels().metrics_label("db", "b");
        const flowdb::Engine ea = flowdb::Engine::open(a), eb = flowdb::Engine::open(b);
        CHECK(ea.metrics_text().find("\nflowdb_flushes_total{db=\"a\",role=\"primary\"} 0\n") != std::string::npos);
        CHECK(ea.metrics_text().find("flowdb_query_latency_seconds{db=\"a\",role=\"primary\",quantile=\"0.9\"} ") != std::string::npos);
        CHECK(eb.metrics_text().find("\nflowdb_flushes_total{db=\"b\"} 0\n") != std::string::npos);
        CHECK(eb.metrics_text().find("flowdb_flushes_total 0") == std::string::npos);
        flowdb::Options bad;
        bad.data_dir(std::string(base) + "/labels-bad").metrics_label("__db", "x");
        try {
            flowdb::Engine::open(bad);
            CHECK(false);
        } catch (const flowdb::Error &e) {
            CHECK(e.code() == FLOWDB_INVALID_ARGUMENT && std::string(e.what()).find("\"__db\" begins with") != std::string::npos);
        }
    }
    {
        // Memtables charged to the block cache: its capacity falls as they fill and
        // comes back when a flush empties them.
        flowdb::Options o;
        o.data_dir(std::string(base) + "/memtables-in-cache").auto_background(false).block_cache_capacity_mb(16).memtables_in_block_cache(true);
        flowdb::Engine db = flowdb::Engine::open(o);
        auto metric = [&](const std::string &name) {
            const std::string text = db.metrics_text(), want = "\n" + name + " ";
            const size_t at = text.find(want);
            return at == std::string::npos ? -1.0 : std::stod(text.substr(at + want.size()));
        };
        const double mib = 1 << 20;
        CHECK(metric("flowdb_block_cache_capacity_bytes") == 16 * mib);
        const std::string value(255, 'v');
        for (int i = 0; i < 20000; i++) db.write_batch({{"s" + std::to_string(i % 100), i, 0, value}});
        const double mem = metric("flowdb_memtable_bytes"), cap = metric("flowdb_block_cache_capacity_bytes");
        CHECK(mem > 2 * mib && cap < 16 * mib - mem + mib && cap > 16 * mib - mem - mib);
        db.flush();
        CHECK(metric("flowdb_block_cache_capacity_bytes") == 16 * mib);
    }
    temporaries_lazy_scans_and_nul(base);
    flowdb::Engine again = flowdb::Engine::open(opts);
    CHECK(again.get("cpu.b", 1)->value == "new");
    std::string cmd = std::string("rm -rf '") + base + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", base);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
