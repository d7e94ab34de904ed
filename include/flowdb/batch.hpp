// flowdb/batch.hpp: WriteBatch (atomic writes) and Snapshot (a consistent
// read-only view).
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_BATCH_HPP
#define FLOWDB_BATCH_HPP

#include "common.hpp"
#include "scan.hpp"
#include "points.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace flowdb {

/// Puts, deletes, range deletes and deletes by time applied atomically by Engine::write (all or
/// none, also across a crash). Each call copies what it is given; reusable after
/// clear(). Not thread-safe. The calls chain as Options' setters do (a reference to a
/// named batch, a temporary batch itself, moved).
class WriteBatch {
public:
    WriteBatch() : p_(flowdb_write_batch_new()) {}
    ~WriteBatch() { flowdb_write_batch_free(p_); }
    WriteBatch(WriteBatch &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    WriteBatch &operator=(WriteBatch &&o) noexcept { std::swap(p_, o.p_); return *this; }
    WriteBatch(const WriteBatch &) = delete;
    WriteBatch &operator=(const WriteBatch &) = delete;

    /// A put; the record keeps its expire_at (0 or FLOWDB_NEVER_EXPIRES: the default TTL).
    WriteBatch &put(const Record &r) & { return step([&](flowdb_error_t **e) { auto v = detail::view(r); return flowdb_write_batch_put(p_, &v, e); }); }
    WriteBatch put(const Record &r) && { return std::move(put(r)); }
    /// A put expiring ttl_secs seconds after its ts.
    WriteBatch &put_ttl(const Record &r, uint64_t ttl_secs) & {
        return step([&](flowdb_error_t **e) { auto v = detail::view(r); return flowdb_write_batch_put_ttl(p_, &v, ttl_secs, e); });
    }
    WriteBatch put_ttl(const Record &r, uint64_t ttl_secs) && { return std::move(put_ttl(r, ttl_secs)); }
    /// A put of a numeric point; it keeps its expire_at (0 or FLOWDB_NEVER_EXPIRES: the
    /// default TTL).
    WriteBatch &put_point(const Point &p) & {
        return step([&](flowdb_error_t **e) { auto v = detail::view(p); return flowdb_write_batch_put_point(p_, &v, e); });
    }
    WriteBatch put_point(const Point &p) && { return std::move(put_point(p)); }
    /// A put of a numeric point expiring ttl_secs seconds after its ts.
    WriteBatch &put_point_ttl(const Point &p, uint64_t ttl_secs) & {
        return step([&](flowdb_error_t **e) { auto v = detail::view(p); return flowdb_write_batch_put_point_ttl(p_, &v, ttl_secs, e); });
    }
    WriteBatch put_point_ttl(const Point &p, uint64_t ttl_secs) && { return std::move(put_point_ttl(p, ttl_secs)); }
    /// A delete of the record (key, ts).
    WriteBatch &remove(std::string_view key, int64_t ts) & {
        return step([&](flowdb_error_t **e) { return flowdb_write_batch_delete(p_, detail::bytes(key), key.size(), ts, e); });
    }
    WriteBatch remove(std::string_view key, int64_t ts) && { return std::move(remove(key, ts)); }
    /// A delete of start <= key < end (half-open).
    WriteBatch &delete_range(std::string_view start, std::string_view end) & {
        return step([&](flowdb_error_t **e) {
            return flowdb_write_batch_delete_range(p_, detail::bytes(start), start.size(), detail::bytes(end), end.size(), e);
        });
    }
    WriteBatch delete_range(std::string_view start, std::string_view end) && { return std::move(delete_range(start, end)); }
    /// A delete of start <= key < end (half-open) and ts_start <= ts <= ts_end
    /// (inclusive); a reversed range makes Engine::write throw FLOWDB_INVALID_ARGUMENT.
    WriteBatch &delete_time_range(std::string_view start, std::string_view end, int64_t ts_start, int64_t ts_end) & {
        return step([&](flowdb_error_t **e) {
            return flowdb_write_batch_delete_time_range(p_, detail::bytes(start), start.size(), detail::bytes(end), end.size(), ts_start, ts_end, e);
        });
    }
    WriteBatch delete_time_range(std::string_view start, std::string_view end, int64_t ts_start, int64_t ts_end) && {
        return std::move(delete_time_range(start, end, ts_start, ts_end));
    }
    /// A delete of every record whose ts is below `ts` (INT64_MIN: nothing, and no operation).
    WriteBatch &delete_before(int64_t ts) & {
        return step([&](flowdb_error_t **e) { return flowdb_write_batch_delete_before(p_, ts, e); });
    }
    WriteBatch delete_before(int64_t ts) && { return std::move(delete_before(ts)); }
    /// A delete of every record whose key begins with prefix and whose ts is below `ts`.
    WriteBatch &delete_prefix_before(std::string_view prefix, int64_t ts) & {
        return step([&](flowdb_error_t **e) { return flowdb_write_batch_delete_prefix_before(p_, detail::bytes(prefix), prefix.size(), ts, e); });
    }
    WriteBatch delete_prefix_before(std::string_view prefix, int64_t ts) && { return std::move(delete_prefix_before(prefix, ts)); }
    size_t size() const noexcept { return flowdb_write_batch_count(p_); }
    bool empty() const noexcept { return size() == 0; }
    void clear() noexcept { flowdb_write_batch_clear(p_); }
    const flowdb_write_batch_t *get() const noexcept { return p_; }

private:
    template <class F>
    WriteBatch &step(F &&f) {
        flowdb_error_t *err = nullptr;
        detail::check(f(&err), err);
        return *this;
    }
    flowdb_write_batch_t *p_;
};

/// A consistent read-only view of the engine at one moment (Engine::snapshot):
/// reads see the writes before it and none after. Thread-safe; it may outlive the
/// Engine object (reads then throw FLOWDB_CLOSED).
class Snapshot {
public:
    ~Snapshot() { flowdb_snapshot_free(p_); }
    Snapshot(Snapshot &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Snapshot &operator=(Snapshot &&o) noexcept { std::swap(p_, o.p_); return *this; }
    Snapshot(const Snapshot &) = delete;
    Snapshot &operator=(const Snapshot &) = delete;

    std::optional<Record> get(std::string_view key, int64_t ts) const {
        return detail::first(detail::records([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_snapshot_get(p_, detail::bytes(key), key.size(), ts, o, e); }));
    }
    std::optional<Record> get_latest(std::string_view key) const {
        return detail::first(detail::records([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_snapshot_get_latest(p_, detail::bytes(key), key.size(), o, e); }));
    }
    /// The n live records of key with the greatest ts, newest first.
    std::vector<Record> last_n(std::string_view key, uint64_t n) const {
        return detail::records([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_snapshot_last_n(p_, detail::bytes(key), key.size(), n, o, e); }).to_vector();
    }
    /// Engine::last_n_with as of the snapshot (the same rules for f; it must not
    /// destroy this snapshot either).
    template <class F>
    uint64_t last_n_with(std::string_view key, uint64_t n, F &&f) const {
        return detail::visit(f, [&](flowdb_last_n_visit_fn cb, void *u, uint64_t *h, flowdb_error_t **e) {
            return flowdb_snapshot_last_n_visit(p_, detail::bytes(key), key.size(), n, cb, u, h, e);
        });
    }
    std::vector<Record> query(const Range &r) const {
        return detail::records([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_snapshot_query(p_, r.get(), o, e); }).to_vector();
    }
    Scan scan(const Range &r) const {
        flowdb_iter_t *it = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_snapshot_scan(p_, r.get(), &it, &err), err);
        return Scan(it);
    }
    /// Engine::aggregate as of the snapshot.
    std::vector<Bucket> aggregate(const Range &r, int64_t step, const std::vector<Agg> &functions) const {
        return detail::buckets(functions, [&](const int32_t *f, size_t n, flowdb_buckets_t **o, flowdb_error_t **e) {
            return flowdb_snapshot_aggregate(p_, r.get(), step, f, n, o, e);
        });
    }
    /// Engine::aggregate_by as of the snapshot.
    std::vector<Bucket> aggregate_by(const Range &r, int64_t step, const std::vector<Agg> &functions, const GroupBy &group) const {
        return detail::buckets(functions, [&](const int32_t *f, size_t n, flowdb_buckets_t **o, flowdb_error_t **e) {
            return flowdb_snapshot_aggregate_by(p_, r.get(), step, f, n, group.get(), o, e);
        });
    }
    /// Engine::series as of the snapshot.
    std::vector<SeriesInfo> series(std::string_view prefix = {}) const { return series_page(prefix, {}, UINT64_MAX); }
    /// Engine::series_page as of the snapshot.
    std::vector<SeriesInfo> series_page(std::string_view prefix, std::string_view after, uint64_t limit) const {
        return detail::series([&](flowdb_series_t **o, flowdb_error_t **e) {
            return flowdb_snapshot_series(p_, detail::bytes(prefix), prefix.size(), detail::bytes(after), after.size(), limit, o, e);
        });
    }
    const flowdb_snapshot_t *get() const noexcept { return p_; }

private:
    friend class Engine;
    explicit Snapshot(flowdb_snapshot_t *p) : p_(p) {}
    flowdb_snapshot_t *p_;
};

}  // namespace flowdb

#endif  // FLOWDB_BATCH_HPP
