// The C++ wrapper under C++20: its iterators model the standard iterator concepts and
// its scans and record lists are std::ranges ranges (static_asserts), used through
// views and range algorithms (at run time). The wrapper itself is C++17; this file is
// built as C++20 with -Wall -Wextra -Werror.
#include "flowdb.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <ranges>
#include <string>
#include <unistd.h>
#include <vector>

static_assert(__cplusplus >= 202002L, "built as C++20");

using flowdb::RecordView;
using ScanIt = flowdb::Scan::iterator;
using ListIt = flowdb::RecordList::iterator;

// A scan (forwards or newest first: the same type) is a single-pass range whose end is
// its default-constructed iterator, also comparable with std::default_sentinel.
static_assert(std::input_iterator<ScanIt>);
static_assert(std::same_as<ScanIt::iterator_concept, std::input_iterator_tag>);
static_assert(std::same_as<std::iterator_traits<ScanIt>::iterator_category, std::input_iterator_tag>);
static_assert(std::same_as<std::iter_value_t<ScanIt>, RecordView>);
static_assert(std::same_as<std::iter_reference_t<ScanIt>, const RecordView &>);
static_assert(std::same_as<std::iter_difference_t<ScanIt>, std::ptrdiff_t>);
static_assert(std::default_initializable<ScanIt> && std::copyable<ScanIt>);
static_assert(std::sentinel_for<ScanIt, ScanIt>);
static_assert(std::sentinel_for<std::default_sentinel_t, ScanIt>);
static_assert(std::ranges::input_range<flowdb::Scan> && std::ranges::common_range<flowdb::Scan>);
static_assert(std::ranges::viewable_range<flowdb::Scan &>);
static_assert(std::ranges::viewable_range<flowdb::Scan>);  // an rvalue scan: owning_view
static_assert(std::ranges::view<decltype(std::declval<flowdb::Scan &>() | std::views::take(1))>);

// A record list is a multi-pass range of RecordView values.
static_assert(std::forward_iterator<ListIt>);
static_assert(std::same_as<std::iterator_traits<ListIt>::iterator_category, std::input_iterator_tag>);
static_assert(std::same_as<std::iter_value_t<ListIt>, RecordView>);
static_assert(std::ranges::forward_range<const flowdb::RecordList>);
static_assert(std::ranges::common_range<const flowdb::RecordList>);

// A JsonDB cursor is a single-pass range of owned CursorEntry values, ending like a scan.
using CursorIt = flowdb::Cursor::iterator;
static_assert(std::input_iterator<CursorIt>);
static_assert(std::same_as<std::iter_value_t<CursorIt>, flowdb::CursorEntry>);
static_assert(std::sentinel_for<std::default_sentinel_t, CursorIt>);
static_assert(std::ranges::input_range<flowdb::Cursor> && std::ranges::common_range<flowdb::Cursor>);

// Series listings and query results are std::vectors.
static_assert(std::ranges::random_access_range<decltype(std::declval<const flowdb::Engine &>().series())>);
static_assert(std::ranges::random_access_range<decltype(std::declval<const flowdb::Engine &>().query(flowdb::Range::all()))>);

static int failures = 0, checks = 0;
#define CHECK(c)                                                                          \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(c)) { failures++; std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } \
    } while (0)

using Keys = std::vector<std::pair<std::string, int64_t>>;
static auto key_ts = [](const RecordView &v) { return std::pair<std::string, int64_t>(std::string(v.key), v.ts); };

int main() {
    char base[] = "/tmp/flowdb-cpp20-XXXXXX";
    if (!mkdtemp(base)) return 2;
    {
        flowdb::Options o;
        o.data_dir(std::string(base) + "/db").auto_background(false);
        flowdb::Engine db = flowdb::Engine::open(o);
        std::vector<flowdb::Record> recs;
        for (const char *k : {"k.a", "k.b", "k.c"})
            for (int64_t t = 1; t <= 4; t++) recs.push_back({k, t, 0, std::string(1, 'v').append(std::to_string(t))});
        db.write_batch(recs);
        db.flush();
        db.write_batch({{"k.d", 1, 0, "memtable"}});
        const flowdb::Engine &reader = db;

        // The first three records through views::take and views::transform.
        flowdb::Scan scan = reader.scan(flowdb::Range::all());
        Keys got;
        for (const auto &kt : scan | std::views::take(3) | std::views::transform(key_ts)) got.push_back(kt);
        CHECK((got == Keys{{"k.a", 1}, {"k.a", 2}, {"k.a", 3}}));
        // Newest first, piped as an rvalue (the view owns the scan), filtered.
        got.clear();
        auto odd = [](const RecordView &v) { return v.ts % 2 == 1; };
        for (const auto &kt : reader.scan(flowdb::Range::all().reverse()) | std::views::filter(odd) | std::views::take(3) | std::views::transform(key_ts))
            got.push_back(kt);
        CHECK((got == Keys{{"k.d", 1}, {"k.c", 3}, {"k.c", 1}}));
        // views::take stops without stepping the scan past a record it did not yield:
        // a second take over the same scan goes on from the fourth record.
        flowdb::Scan twice = reader.scan(flowdb::Range::keys("k.a", "k.b"));
        got.clear();
        for (const RecordView &v : twice | std::views::take(3)) got.push_back(key_ts(v));
        for (const RecordView &v : twice | std::views::take(3)) got.push_back(key_ts(v));
        CHECK((got == Keys{{"k.a", 1}, {"k.a", 2}, {"k.a", 3}, {"k.a", 4}, {"k.b", 1}, {"k.b", 2}}));
        CHECK(std::ranges::distance(twice) == 2 && twice.begin() == std::default_sentinel);
        // Looking at a scan steps past nothing: a test for emptiness, then a whole walk.
        flowdb::Scan peeked = reader.scan(flowdb::Range::keys("k.a", "k.a"));
        CHECK(peeked.begin() != peeked.end() && peeked.begin() != std::default_sentinel && std::ranges::distance(peeked) == 4);
        // Range algorithms over a whole scan.
        size_t bytes = 0;
        std::ranges::for_each(reader.scan(flowdb::Range::prefix("k.b")), [&](const RecordView &v) { bytes += v.value.size(); });
        CHECK(bytes == 8);
        flowdb::Scan all = reader.scan(flowdb::Range::all());
        CHECK(std::ranges::count_if(all, [](const RecordView &v) { return v.key == "k.c"; }) == 4);
        flowdb::Scan find = reader.scan(flowdb::Range::all());
        auto hit = std::ranges::find_if(find, [](const RecordView &v) { return v.value == "memtable"; });
        CHECK(hit != std::default_sentinel && hit->key == "k.d" && !(std::default_sentinel == hit));

        // Iterators by hand: post-increment hands back a copy, the end compares both ways.
        flowdb::Scan by_hand = reader.scan(flowdb::Range::keys("k.a", "k.a"));
        ScanIt it = by_hand.begin();
        std::string first((*it++).key);
        CHECK(first == "k.a" && it->ts == 2);
        ++it;
        it++;
        CHECK(it != std::default_sentinel && std::default_sentinel != it && it->ts == 4);
        ++it;
        CHECK(it == std::default_sentinel && std::default_sentinel == it && it == by_hand.end() && it == ScanIt());
        // After a seek, a new range-for reads on from there.
        by_hand.seek("k.a", 3);
        CHECK(std::ranges::distance(by_hand) == 2);

        // A record list from the C API: a forward range, read twice.
        flowdb_records_t *out = nullptr;
        flowdb_error_t *err = nullptr;
        flowdb::Range newest = flowdb::Range::prefix("k.").reverse().limit(5);
        CHECK(flowdb_engine_query(db.get(), newest.get(), &out, &err) == FLOWDB_OK);
        const flowdb::RecordList list(out);
        CHECK(std::ranges::distance(list) == 5 && std::ranges::distance(list) == 5);
        CHECK(std::ranges::equal(list | std::views::transform(key_ts), Keys{{"k.d", 1}, {"k.c", 4}, {"k.c", 3}, {"k.c", 2}, {"k.c", 1}}));
        auto max = std::ranges::max(list | std::views::transform([](const RecordView &v) { return v.ts; }));
        CHECK(max == 4);
        ListIt li = list.begin();
        ListIt before = li++;
        CHECK(before == list.begin() && li != before && (*li).ts == 4 && std::ranges::next(li, 4) == list.end());
        // Series as a range.
        auto keys = reader.series("k.") | std::views::transform([](const flowdb::SeriesInfo &s) { return s.key; });
        CHECK(std::ranges::equal(keys, std::vector<std::string>{"k.a", "k.b", "k.c", "k.d"}));
        db.shutdown();
    }
    {
        // A cursor through views: the primary keys of the documents aged over 30.
        flowdb::Options o;
        o.data_dir(std::string(base) + "/docs").auto_background(false);
        flowdb::JsonDB docs = flowdb::JsonDB::open(o);
        docs.create_store(R"({"name":"p","keyPath":"id","indexes":[{"name":"age","keyPath":"age"}]})");
        for (const char *d : {R"({"age":40,"id":1})", R"({"age":20,"id":2})", R"({"age":35,"id":3})"}) docs.add("p", d);
        flowdb::Cursor c = docs.open_cursor("p", std::string("age"), flowdb::KeyRange::lower_bound("30", true), FLOWDB_PREV);
        auto pks = c | std::views::transform([](const flowdb::CursorEntry &e) { return e.primary_key; });
        CHECK(std::ranges::equal(pks, std::vector<std::string>{"1", "3"}));
        CHECK(c.begin() == std::default_sentinel);
        // views::take(1) leaves the cursor on the entry it yielded; the next take
        // goes on from the one after it.
        flowdb::Cursor t = docs.open_cursor("p", std::nullopt, flowdb::KeyRange::all());
        std::vector<std::string> seen;
        for (const auto &e : t | std::views::take(1)) seen.push_back(e.primary_key);
        CHECK(t.primary_key() == "1");
        for (const auto &e : t | std::views::take(1)) seen.push_back(e.primary_key);
        CHECK(t.primary_key() == "2" && (seen == std::vector<std::string>{"1", "2"}));
        // take_while leaves it on the entry its test rejected; find_if on the one found.
        flowdb::Cursor w = docs.open_cursor("p", std::nullopt, flowdb::KeyRange::all());
        auto young = [](const flowdb::CursorEntry &e) { return e.primary_key != "2"; };
        std::vector<std::string> taken;
        for (const auto &e : w | std::views::take_while(young)) taken.push_back(e.primary_key);
        CHECK((taken == std::vector<std::string>{"1"}) && w.primary_key() == "2");
        flowdb::Cursor f = docs.open_cursor("p", std::nullopt, flowdb::KeyRange::all());
        auto third = std::ranges::find_if(f, [](const flowdb::CursorEntry &e) { return e.primary_key == "3"; });
        CHECK(third != f.end() && f.primary_key() == "3");
    }
    std::string cmd = std::string("rm -rf '") + base + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", base);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
