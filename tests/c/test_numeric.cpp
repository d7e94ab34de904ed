// C++ wrapper tests of numeric series (docs/numeric.md): Points written with
// write_points and WriteBatch::put_point come back bit for bit through get, query and
// snapshots (NaN payloads, -0.0, infinities, subnormals; Record::as_f64 and
// RecordView::as_f64); aggregate and aggregate_by (also on a Snapshot, and through a
// const Engine) give known results, group series, follow a Range's order and limit;
// Scan::is_point tells points from records of bytes; bad arguments throw flowdb::Error with FLOWDB_INVALID_ARGUMENT naming them;
// rollups (Options::rollup, run_rollups, rollup_watermark, rollup_query, rollup_aggregate(_by)).
#include "flowdb.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

static int failures = 0, checks = 0;
#define CHECK(c)                                                                          \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(c)) { failures++; std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } \
    } while (0)

static constexpr int64_t SEC = 1000000;

static double of_bits(uint64_t bits) {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}
static uint64_t bits_of(double d) {
    uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    return b;
}
// The value holds the double's 8 bytes, little-endian, and as_f64 reads it back.
static bool holds(const flowdb::Record &r, uint64_t bits) {
    if (r.value.size() != 8) return false;
    for (int i = 0; i < 8; i++)
        if (static_cast<uint8_t>(r.value[i]) != static_cast<uint8_t>(bits >> (8 * i))) return false;
    auto d = r.as_f64();
    return d.has_value() && bits_of(*d) == bits;
}

// `f` throws a flowdb::Error of `code` whose message contains `words`.
template <class F>
static bool throws(F &&f, flowdb_status_t code, const char *words) {
    try {
        f();
    } catch (const flowdb::Error &e) {
        if (e.code() == code && std::strstr(e.what(), words)) return true;
        std::fprintf(stderr, "  threw %s\n", e.what());
        return false;
    }
    return false;
}

static bool same(const flowdb::Bucket &b, const char *key, int64_t start, std::vector<double> values) {
    return b.key == key && b.start == start && b.values == values;
}

int main() {
    char base[] = "/tmp/flowdb-cpp-numeric-XXXXXX";
    if (!mkdtemp(base)) return 2;
    flowdb::Options opts;
    opts.data_dir(std::string(base) + "/db").auto_background(false);
    {
        flowdb::Engine db = flowdb::Engine::open(opts);
        // Special values, bit for bit, written both ways, in memory and in a table.
        const uint64_t special[] = {0x7ff8000000000001u, 0xfff80000deadbeefu, 0x7ff0000000000001u, 0x8000000000000000u,
                                    0x7ff0000000000000u, 0xfff0000000000000u, 0x0000000000000001u, 0x000fffffffffffffu};
        std::vector<flowdb::Point> pts;
        flowdb::WriteBatch batch;
        int64_t ts = 0;
        for (uint64_t bits : special) {
            pts.push_back({"special", ts, 0, of_bits(bits)});
            batch.put_point({"batched", ts, flowdb::Point{}.expire_at, of_bits(bits)});
            ts++;
        }
        db.write_points(pts);
        CHECK(batch.size() == pts.size());
        db.write(batch);
        for (int round = 0; round < 2; round++) {
            const flowdb::Snapshot snap = db.snapshot();
            ts = 0;
            for (uint64_t bits : special) {
                auto r = db.get("special", ts);
                CHECK(r && holds(*r, bits) && r->expire_at == FLOWDB_NEVER_EXPIRES);
                auto s = snap.get("batched", ts);
                CHECK(s && holds(*s, bits));
                ts++;
            }
            auto all = db.query(flowdb::Range::prefix("special"));
            CHECK(all.size() == pts.size());
            for (size_t i = 0; i < all.size() && i < pts.size(); i++) CHECK(holds(all[i], special[i]));
            size_t n = 0;
            for (const flowdb::RecordView &v : db.scan(flowdb::Range::prefix("batched")))
                n += v.as_f64().has_value() && bits_of(*v.as_f64()) == special[static_cast<size_t>(v.ts)];
            CHECK(n == pts.size());
            db.flush();
        }
        CHECK(!(flowdb::Record{"k", 1, 0, "abc"}).as_f64().has_value());

        // 3, 1, 4, 1 at 0, 15, 30, 45 s: one bucket of 60 s; an 8-byte record of bytes
        // beside them is left out.
        db.write_points({{"cpu.a", 0, 0, 3}, {"cpu.a", 15 * SEC, 0, 1}, {"cpu.a", 30 * SEC, 0, 4}, {"cpu.a", 45 * SEC, 0, 1}});
        db.write_batch({{"cpu.a", 50 * SEC, 0, std::string(8, '\x01')}});
        using flowdb::Agg;
        const std::vector<Agg> every = {Agg::count, Agg::sum, Agg::min, Agg::max, Agg::avg, Agg::first, Agg::last, Agg::increase, Agg::rate};
        const std::vector<double> want = {4, 9, 1, 4, 2.25, 3, 1, 5, 5.0 / 45.0};
        const flowdb::Engine &reader = db;
        auto b = reader.aggregate(flowdb::Range::prefix("cpu.a"), 60 * SEC, every);
        CHECK(b.size() == 1 && same(b[0], "cpu.a", 0, want));
        flowdb::Snapshot snap = db.snapshot();
        db.write_points({{"cpu.a", 59 * SEC, 0, 100}});
        b = snap.aggregate(flowdb::Range::prefix("cpu.a"), 60 * SEC, every);
        CHECK(b.size() == 1 && same(b[0], "cpu.a", 0, want));
        b = snap.aggregate_by(flowdb::Range::prefix("cpu.a"), 60 * SEC, every, flowdb::GroupBy::series());
        CHECK(b.size() == 1 && same(b[0], "cpu.a", 0, want));
        b = db.aggregate(flowdb::Range::prefix("cpu.a"), 60 * SEC, {Agg::count, Agg::last});
        CHECK(b.size() == 1 && same(b[0], "cpu.a", 0, {5, 100}));
        // Two buckets of another series (a negative ts rounds down); newest first with a limit.
        db.write_points({{"cpu.b", -1, 0, 2}, {"cpu.b", 10 * SEC, 0, 6}, {"cpu.b", 70 * SEC, 0, 8}});
        b = db.aggregate(flowdb::Range::prefix("cpu.b"), 60 * SEC, {Agg::sum});
        CHECK(b.size() == 3 && same(b[0], "cpu.b", -60 * SEC, {2}) && same(b[2], "cpu.b", 60 * SEC, {8}));
        b = db.aggregate(flowdb::Range::prefix("cpu.").reverse().limit(2), 60 * SEC, {Agg::sum});
        CHECK(b.size() == 2 && same(b[0], "cpu.b", 60 * SEC, {8}) && same(b[1], "cpu.b", 0, {6}));

        // Grouping: up to the last '.', everything, a prefix.
        db.write_points({{"m.h1.user", 0, 0, 1}, {"m.h1.user", 10 * SEC, 0, 2}, {"m.h1.sys", 5 * SEC, 0, 10}, {"m.h2.user", 0, 0, 7}});
        const std::vector<Agg> fns = {Agg::count, Agg::sum, Agg::first, Agg::last};
        b = db.aggregate_by(flowdb::Range::prefix("m."), 60 * SEC, fns, flowdb::GroupBy::up_to_last('.'));
        CHECK(b.size() == 2 && same(b[0], "m.h1.", 0, {3, 13, 1, 2}) && same(b[1], "m.h2.", 0, {1, 7, 7, 7}));
        b = db.snapshot().aggregate_by(flowdb::Range::prefix("m."), 60 * SEC, fns, flowdb::GroupBy::all());
        CHECK(b.size() == 1 && same(b[0], "", 0, {4, 20, 1, 2}));
        b = db.aggregate_by(flowdb::Range::prefix("m."), 60 * SEC, {Agg::count}, flowdb::GroupBy::prefix(4));
        CHECK(b.size() == 2 && same(b[0], "m.h1", 0, {3}) && same(b[1], "m.h2", 0, {1}));

        // Names.
        for (Agg a : every) CHECK(flowdb::agg_from_name(flowdb::to_string(a)) == a);
        CHECK(std::strcmp(flowdb::to_string(Agg::increase), "increase") == 0);
        CHECK(std::strcmp(flowdb::to_string(static_cast<Agg>(42)), "unknown") == 0);

        // Bad input: FLOWDB_INVALID_ARGUMENT naming what was wrong.
        auto r = flowdb::Range::all();
        CHECK(throws([&] { db.aggregate(r, 0, {Agg::sum}); }, FLOWDB_INVALID_ARGUMENT, "step"));
        CHECK(throws([&] { db.aggregate(r, -1, {Agg::sum}); }, FLOWDB_INVALID_ARGUMENT, "step"));
        CHECK(throws([&] { db.aggregate(r, 60, {}); }, FLOWDB_INVALID_ARGUMENT, "function"));
        CHECK(throws([&] { snap.aggregate(r, 60, {Agg::sum, static_cast<Agg>(42)}); }, FLOWDB_INVALID_ARGUMENT, "functions[1] is 42"));
        CHECK(throws([&] { db.aggregate_by(r, 60, {static_cast<Agg>(-3)}, flowdb::GroupBy::all()); }, FLOWDB_INVALID_ARGUMENT, "functions[0] is -3"));
        CHECK(throws([&] { flowdb::agg_from_name("median"); }, FLOWDB_INVALID_ARGUMENT, "median"));
        CHECK(throws([&] { flowdb::agg_from_name(std::string("sum\0", 4)); }, FLOWDB_INVALID_ARGUMENT, "NUL"));
        CHECK(throws([&] { db.write_points({{"", 0, 0, 1}}); }, FLOWDB_INVALID_ARGUMENT, "key"));
        CHECK(throws([&] { flowdb::WriteBatch w; w.put_point({"", 0, 0, 1}); db.write(w); }, FLOWDB_INVALID_ARGUMENT, "batch operation"));
        flowdb::Status st = flowdb::attempt([&] { db.aggregate(r, 0, {Agg::sum}); });
        CHECK(!st.ok() && st.code == FLOWDB_INVALID_ARGUMENT);

        // A batch TTL: expired at once when ts + ttl is past.
        flowdb::WriteBatch w;
        w.put_point_ttl({"ttl", 1, 0, 1.0}, 1).put_point({"ttl", 2, 0, 2.0});
        db.write(w);
        auto kept = db.query(flowdb::Range::prefix("ttl"));
        CHECK(kept.size() == 1 && kept[0].ts == 2 && kept[0].as_f64() == 2.0);

        db.shutdown();
        CHECK(throws([&] { db.write_points({{"k", 0, 0, 1}}); }, FLOWDB_CLOSED, ""));
        CHECK(throws([&] { db.aggregate(r, 60, {Agg::sum}); }, FLOWDB_CLOSED, ""));
        CHECK(throws([&] { snap.aggregate(r, 60, {Agg::sum}); }, FLOWDB_CLOSED, ""));
    }
    {
        // Scan::is_point: true for the points, false for 8 bytes written as bytes, before
        // the first record, at the end and after a seek; in a range-for and with next(),
        // from the memtable and from a table, forwards, in reverse and on a snapshot.
        flowdb::Options o;
        o.data_dir(std::string(base) + "/is-point").auto_background(false);
        flowdb::Engine db = flowdb::Engine::open(o);
        db.write_points({{"iter", 1, 0, 1.5}, {"iter", 3, 0, -0.0}});
        db.write_batch({{"iter", 2, 0, "abcdefgh"}});
        const std::vector<bool> want = {true, false, true};
        for (int round = 0; round < 2; round++) {
            flowdb::Scan s = db.scan(flowdb::Range::all());
            CHECK(!s.is_point());
            std::vector<bool> points;
            for (const flowdb::RecordView &v : s) {
                CHECK(v.value.size() == 8);
                points.push_back(s.is_point());
            }
            CHECK(points == want);
            CHECK(!s.is_point());
            s.seek("iter", 2);
            CHECK(!s.is_point());
            auto v = s.next();
            CHECK(v && v->ts == 2 && !s.is_point());
            v = s.next();
            CHECK(v && v->ts == 3 && s.is_point() && v->as_f64() == 0.0);
            CHECK(!s.next() && !s.is_point());

            const flowdb::Snapshot snap = db.snapshot();
            flowdb::Scan r = snap.scan(flowdb::Range::all().reverse());
            points.clear();
            while (auto rv = r.next()) points.push_back(r.is_point());
            CHECK(points == want);
            db.flush();
        }
    }
    {
        // The example of docs/numeric.md ("In C, C++ and Go"), as it is written there.
        flowdb::Options o;
        o.data_dir(std::string(base) + "/doc").auto_background(false);
        flowdb::Engine db = flowdb::Engine::open(o);
        int found = 0;
        // from the doc:
        db.write_points({{"temp.kitchen", 0, 0, 21.5}, {"temp.kitchen", 60'000'000, 0, 22.0}});
        for (const flowdb::Bucket &b : db.aggregate(flowdb::Range::prefix("temp."), 300'000'000, {flowdb::Agg::max, flowdb::Agg::avg})) {
            std::printf("%s %lld max %g avg %g\n", b.key.c_str(), (long long)b.start, b.values[0], b.values[1]);
            found += b.key == "temp.kitchen" && b.start == 0 && b.values[0] == 22.0 && b.values[1] == 21.75;
        }
        auto by_room = db.aggregate_by(flowdb::Range::prefix("temp."), 300'000'000, {flowdb::Agg::count}, flowdb::GroupBy::up_to_last('.'));
        CHECK(found == 1 && by_room.size() == 1 && by_room[0].key == "temp." && by_room[0].values[0] == 2);
    }
    {
        // Rollups (docs/numeric.md, "Rollups"): a rule, a run, the reads, a late point
        // re-rolled, an unknown name and a bad rule.
        flowdb::Options o;
        o.data_dir(std::string(base) + "/rollups").auto_background(false);
        o.rollup(flowdb::RollupRule("1m", 60 * SEC, {flowdb::Agg::count, flowdb::Agg::max}).with_prefix("cpu.").with_delay(0));
        flowdb::Engine db = flowdb::Engine::open(o);
        CHECK(db.rollup_watermark("1m") == INT64_MIN);
        std::vector<flowdb::Point> pts;
        for (int i = 0; i < 180; i++) pts.push_back({"cpu.a", i * SEC, 0, double(i)});
        pts.push_back({"mem.a", 0, 0, 5.0}); // not under the prefix
        db.write_points(pts);
        db.run_rollups();
        CHECK(db.rollup_watermark("1m") >= 180 * SEC);
        auto maxima = db.rollup_query("1m", flowdb::Range::prefix("max:"));
        CHECK(maxima.size() == 3 && maxima[0].key == "max:cpu.a" && maxima[0].as_f64() == 59.0 && maxima[2].ts == 120 * SEC);
        auto hourly = db.rollup_aggregate("1m", flowdb::Range::prefix("count:cpu."), 3600 * SEC, {flowdb::Agg::sum});
        CHECK(hourly.size() == 1 && same(hourly[0], "count:cpu.a", 0, {180}));
        auto all = db.rollup_aggregate_by("1m", flowdb::Range::prefix("max:"), 3600 * SEC, {flowdb::Agg::max}, flowdb::GroupBy::all());
        CHECK(all.size() == 1 && same(all[0], "", 0, {179}));
        db.write_points({{"cpu.a", SEC, 0, 1000.0}}); // late: re-rolled by the next run
        db.run_rollups();
        CHECK(db.rollup_query("1m", flowdb::Range::prefix("max:"))[0].as_f64() == 1000.0);
        CHECK(throws([&] { (void)db.rollup_watermark("5m"); }, FLOWDB_NOT_FOUND, "\"5m\""));
        flowdb::Options bad;
        bad.data_dir(std::string(base) + "/bad").auto_background(false).rollup(flowdb::RollupRule("x", 60 * SEC, {flowdb::Agg::avg}));
        CHECK(throws([&] { (void)flowdb::Engine::open(bad); }, FLOWDB_INVALID_ARGUMENT, "functions[0] = avg"));
    }
    {
        // The rollup example of docs/numeric.md ("Rollups in C, C++ and Go").
        flowdb::Options opts;
        opts.data_dir(std::string(base) + "/doc-rollups").auto_background(false);
        double found = 0;
        // from the doc:
        opts.rollup(flowdb::RollupRule("1m", 60'000'000, {flowdb::Agg::min, flowdb::Agg::max, flowdb::Agg::sum, flowdb::Agg::count}).with_prefix("temp."));
        flowdb::Engine db = flowdb::Engine::open(opts);
        db.write_points({{"temp.kitchen", 0, 0, 21.5}, {"temp.kitchen", 60'000'000, 0, 22.0}});
        db.run_rollups(); // background maintenance does it too
        for (const flowdb::Bucket &b : db.rollup_aggregate("1m", flowdb::Range::prefix("max:temp."), 3'600'000'000, {flowdb::Agg::max}))
            std::printf("%s %lld hourly max %g\n", b.key.c_str(), (long long)b.start, b.values[0]);
        // (end of the doc's example)
        found = db.rollup_aggregate("1m", flowdb::Range::prefix("max:temp."), 3'600'000'000, {flowdb::Agg::max}).at(0).values.at(0);
        CHECK(found == 22.0);
    }
    std::string cmd = std::string("rm -rf '") + base + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", base);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
