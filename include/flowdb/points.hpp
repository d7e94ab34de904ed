// flowdb/points.hpp: numeric series: SeriesInfo, Point, Agg, GroupBy, Bucket and
// their detail helpers.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_POINTS_HPP
#define FLOWDB_POINTS_HPP

#include "common.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace flowdb {

/// One series (a distinct key) from Engine::series or Snapshot::series. `points` is an
/// estimate from metadata: it counts versions not yet merged away (a point overwritten
/// counts once per version, a deleted or expired one until compaction drops it);
/// without overwrites, deletes or expiry it is exact. first_ts and last_ts are the
/// least and greatest ts stored for the key (exact unless points were deleted since).
struct SeriesInfo {
    std::string key;
    uint64_t points = 0;
    int64_t first_ts = 0;
    int64_t last_ts = 0;
};

namespace detail {
// A series list the library fills in through `f(&out, &err)`, copied (and freed).
template <class F>
std::vector<SeriesInfo> series(F &&f) {
    flowdb_series_t *out = nullptr;
    flowdb_error_t *err = nullptr;
    check(f(&out, &err), err);
    std::unique_ptr<flowdb_series_t, Free<flowdb_series_free>> owner(out);
    std::vector<SeriesInfo> v;
    size_t n = flowdb_series_len(out);
    v.reserve(n);
    for (size_t i = 0; i < n; i++) {
        flowdb_series_view_t s;
        check(flowdb_series_at(out, i, &s, &err), err);
        v.push_back(SeriesInfo{std::string(reinterpret_cast<const char *>(s.key), s.key_len), s.points, s.first_ts, s.last_ts});
    }
    return v;
}
}  // namespace detail

/// A numeric point (docs/numeric.md): written by Engine::write_points or
/// WriteBatch::put_point, stored as a record whose value is the double's 8 bytes,
/// little-endian, and read back bit for bit (Record::as_f64). expire_at 0 or
/// FLOWDB_NEVER_EXPIRES: no expiry of its own (the default TTL applies).
struct Point {
    std::string key;
    int64_t ts = 0;
    int64_t expire_at = FLOWDB_NEVER_EXPIRES;
    double value = 0;
};

/// An aggregate function of Engine::aggregate (flowdb_agg_t); docs/numeric.md has
/// each one's rules, NaN included.
enum class Agg : int32_t {
    count = FLOWDB_AGG_COUNT,        ///< how many points
    sum = FLOWDB_AGG_SUM,
    min = FLOWDB_AGG_MIN,            ///< NaN skipped
    max = FLOWDB_AGG_MAX,            ///< NaN skipped
    avg = FLOWDB_AGG_AVG,            ///< sum / count
    first = FLOWDB_AGG_FIRST,        ///< the value of the earliest point
    last = FLOWDB_AGG_LAST,          ///< the value of the latest point
    increase = FLOWDB_AGG_INCREASE,  ///< counter growth, resets counted
    rate = FLOWDB_AGG_RATE,          ///< increase per second between the first and last point
};

/// "count", "sum", "min", "max", "avg", "first", "last", "increase", "rate" (as the
/// CLI and every binding spell them); "unknown" for another value.
inline const char *to_string(Agg a) noexcept {
    const char *name = flowdb_agg_name(static_cast<int32_t>(a));
    return name ? name : "unknown";
}

/// The function named `name` (as to_string spells it); throws FLOWDB_INVALID_ARGUMENT
/// for another name.
inline Agg agg_from_name(const std::string &name) {
    int32_t a = 0;
    flowdb_error_t *err = nullptr;
    detail::check(flowdb_agg_from_name(detail::c_str(name, "an aggregate function name"), &a, &err), err);
    return static_cast<Agg>(a);
}

/// How Engine::aggregate_by groups series (flowdb_group_t): GroupBy::series() (each
/// alone), all() (one group, the empty key), prefix(n) (keys sharing their first n
/// bytes) or up_to_last('.') (keys equal up to their last '.': cpu.h1.user and
/// cpu.h1.sys form cpu.h1.).
class GroupBy {
public:
    static GroupBy series() noexcept { return GroupBy(FLOWDB_GROUP_SERIES, 0, 0); }
    static GroupBy all() noexcept { return GroupBy(FLOWDB_GROUP_ALL, 0, 0); }
    static GroupBy prefix(size_t n) noexcept { return GroupBy(FLOWDB_GROUP_PREFIX, n, 0); }
    static GroupBy up_to_last(char byte) noexcept { return GroupBy(FLOWDB_GROUP_UP_TO_LAST, 0, static_cast<uint8_t>(byte)); }
    const flowdb_group_t *get() const noexcept { return &g_; }

private:
    GroupBy(int32_t kind, size_t prefix_len, uint8_t byte) noexcept : g_{kind, prefix_len, byte} {}
    flowdb_group_t g_;
};

/// One series' (or group's) points in one time bucket [start, start + step),
/// aggregated: values[i] is the i-th function asked for.
struct Bucket {
    std::string key;
    int64_t start = 0;
    std::vector<double> values;
};

namespace detail {
inline flowdb_point_t view(const Point &p) {
    return flowdb_point_t{bytes(p.key), p.key.size(), p.ts, p.expire_at, p.value};
}
inline std::vector<int32_t> agg_numbers(const std::vector<Agg> &functions) {
    std::vector<int32_t> out;
    out.reserve(functions.size());
    for (Agg a : functions) out.push_back(static_cast<int32_t>(a));
    return out;
}
// A bucket list the library fills in through `f(functions, n, &out, &err)`, copied
// (and freed).
template <class F>
std::vector<Bucket> buckets(const std::vector<Agg> &functions, F &&f) {
    std::vector<int32_t> fs = agg_numbers(functions);
    flowdb_buckets_t *out = nullptr;
    flowdb_error_t *err = nullptr;
    check(f(fs.data(), fs.size(), &out, &err), err);
    std::unique_ptr<flowdb_buckets_t, Free<flowdb_buckets_free>> owner(out);
    std::vector<Bucket> v;
    size_t n = flowdb_buckets_len(out);
    v.reserve(n);
    for (size_t i = 0; i < n; i++) {
        flowdb_bucket_view_t b;
        check(flowdb_buckets_at(out, i, &b, &err), err);
        v.push_back(Bucket{std::string(reinterpret_cast<const char *>(b.key), b.key_len), b.start,
                           std::vector<double>(b.values, b.values + b.n_values)});
    }
    return v;
}
}  // namespace detail

}  // namespace flowdb

#endif  // FLOWDB_POINTS_HPP
