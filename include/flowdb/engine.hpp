// flowdb/engine.hpp: Engine, the time-series storage engine.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_ENGINE_HPP
#define FLOWDB_ENGINE_HPP

#include "common.hpp"
#include "options.hpp"
#include "scan.hpp"
#include "points.hpp"
#include "batch.hpp"
#include "events.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowdb {

/// The engine: opened by Engine::open; sync() makes writes durable and keeps it open,
/// shutdown() closes it, and the destructor frees it (without shutdown() nothing
/// acknowledged is lost either). Reads are const.
class Engine {
public:
    static Engine open(const Options &o) {
        flowdb_engine_t *h = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_open(o.get(), &h, &err), err);
        return Engine(h);
    }
    static Status try_open(const Options &o, std::optional<Engine> &out) {
        flowdb_engine_t *h = nullptr;
        flowdb_error_t *err = nullptr;
        Status s = detail::status(flowdb_engine_open(o.get(), &h, &err), err);
        if (s.ok()) out.emplace(Engine(h));
        return s;
    }
    /// Opens o's data directory read-only: no lock taken and nothing written, so
    /// another process (or another Engine) may be writing it. It sees the database as
    /// of the open; catch_up() moves it on. Writes, flushes and compactions throw
    /// FLOWDB_READ_ONLY; checkpoint() copies what the writer has on disk. Throws
    /// FLOWDB_NOT_FOUND when no database is there, FLOWDB_BUSY when the writer kept
    /// changing its files while they were read (try again).
    static Engine open_read_only(const Options &o) {
        flowdb_engine_t *h = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_open_read_only(o.get(), &h, &err), err);
        return Engine(h);
    }
    /// Removes the event listener (waiting for its last call), then frees the handle.
    ~Engine() {
        detail::drop_listener(flowdb_engine_set_event_listener, h_, listener_);
        flowdb_engine_free(h_);
    }
    Engine(Engine &&o) noexcept : h_(std::exchange(o.h_, nullptr)), listener_(std::move(o.listener_)) {}
    Engine &operator=(Engine &&o) noexcept {
        std::swap(h_, o.h_);
        std::swap(listener_, o.listener_);  // a listener stays with its handle
        return *this;
    }
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    void write_batch(const std::vector<Record> &records) { call(try_write_batch(records)); }
    Status try_write_batch(const std::vector<Record> &records) {
        return write(records, [&](const flowdb_record_view_t *v, size_t n, flowdb_error_t **e) { return flowdb_engine_write_batch(h_, v, n, e); });
    }
    void write_batch_sync(const std::vector<Record> &records) {
        call(write(records, [&](const flowdb_record_view_t *v, size_t n, flowdb_error_t **e) { return flowdb_engine_write_batch_sync(h_, v, n, e); }));
    }
    void write_batch_ttl(const std::vector<Record> &records, std::optional<uint64_t> ttl_secs) {
        call(write(records, [&](const flowdb_record_view_t *v, size_t n, flowdb_error_t **e) {
            return flowdb_engine_write_batch_ttl(h_, v, n, ttl_secs.has_value(), ttl_secs.value_or(0), e);
        }));
    }
    /// Writes numeric points atomically (all or none), each with its own expire_at (0
    /// or FLOWDB_NEVER_EXPIRES: the default TTL). Reads return them as records whose
    /// value is the double's 8 bytes (Record::as_f64).
    void write_points(const std::vector<Point> &points) {
        std::vector<flowdb_point_t> vs;
        vs.reserve(points.size());
        for (const auto &p : points) vs.push_back(detail::view(p));
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_write_points(h_, vs.data(), vs.size(), &err), err);
    }
    void delete_batch(const std::vector<std::pair<std::string, int64_t>> &keys) {
        std::vector<flowdb_key_ts_t> ks;
        ks.reserve(keys.size());
        for (const auto &k : keys) ks.push_back(flowdb_key_ts_t{detail::bytes(k.first), k.first.size(), k.second});
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_delete_batch(h_, ks.data(), ks.size(), &err), err);
    }
    /// Deletes start <= key < end (half-open).
    void delete_range(std::string_view start, std::string_view end) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_delete_range(h_, detail::bytes(start), start.size(), detail::bytes(end), end.size(), &err), err);
    }
    /// Deletes start <= key < end (half-open) with ts_start <= ts <= ts_end (inclusive):
    /// one range tombstone. start == end deletes nothing; start > end or
    /// ts_start > ts_end throws FLOWDB_INVALID_ARGUMENT.
    void delete_time_range(std::string_view start, std::string_view end, int64_t ts_start, int64_t ts_end) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_delete_time_range(h_, detail::bytes(start), start.size(), detail::bytes(end), end.size(), ts_start, ts_end, &err), err);
    }
    /// Deletes every record of every key whose ts is below `ts` (INT64_MIN deletes nothing).
    void delete_before(int64_t ts) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_delete_before(h_, ts, &err), err);
    }
    /// Deletes every record whose key begins with prefix and whose ts is below `ts`.
    void delete_prefix_before(std::string_view prefix, int64_t ts) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_delete_prefix_before(h_, detail::bytes(prefix), prefix.size(), ts, &err), err);
    }
    Record patch_record(std::string_view key, int64_t ts, std::optional<std::string_view> value, std::optional<uint64_t> ttl_secs) {
        flowdb_records_t *out = nullptr;
        flowdb_error_t *err = nullptr;
        std::string_view v = value.value_or(std::string_view());
        detail::check(flowdb_engine_patch_record(h_, detail::bytes(key), key.size(), ts, value.has_value(), detail::bytes(v), v.size(),
                                                 ttl_secs.has_value(), ttl_secs.value_or(0), &out, &err),
                      err);
        return RecordList(out)[0].to_record();
    }

    std::optional<Record> get(std::string_view key, int64_t ts) const {
        return first(list([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_engine_get(h_, detail::bytes(key), key.size(), ts, o, e); }));
    }
    std::optional<Record> get_latest(std::string_view key) const {
        return first(list([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_engine_get_latest(h_, detail::bytes(key), key.size(), o, e); }));
    }
    /// The n live records of key with the greatest ts, newest first (one backwards walk).
    std::vector<Record> last_n(std::string_view key, uint64_t n) const {
        return list([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_engine_last_n(h_, detail::bytes(key), key.size(), n, o, e); }).to_vector();
    }
    /// last_n lending each record instead of copying it: f(ts, value) for the n newest
    /// live records of key, newest first, `value` (a std::string_view) valid only during
    /// the call. f returns void, or bool: false stops the calls (the walk still reads up
    /// to n records). Returns how many records f was given. An exception from f stops
    /// the calls and is rethrown once the walk has returned. f may read and write
    /// through this engine; it must not shut it down or destroy it (the shutdown
    /// would wait for the walk that is running f).
    template <class F>
    uint64_t last_n_with(std::string_view key, uint64_t n, F &&f) const {
        return detail::visit(f, [&](flowdb_last_n_visit_fn cb, void *u, uint64_t *h, flowdb_error_t **e) {
            return flowdb_engine_last_n_visit(h_, detail::bytes(key), key.size(), n, cb, u, h, e);
        });
    }
    std::vector<Record> query(const Range &r) const {
        return list([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_engine_query(h_, r.get(), o, e); }).to_vector();
    }
    std::vector<Record> query_by_prefix(std::string_view p) const { return query(Range::prefix(p)); }
    std::vector<Record> query_time_range(int64_t start, int64_t end) const { return query(Range::time(start, end)); }
    Scan scan(const Range &r, bool fill_cache = true, bool verify_checksums = true) const {
        flowdb_iter_t *it = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_scan_opt(h_, r.get(), fill_cache, verify_checksums, &it, &err), err);
        return Scan(it);
    }
    /// The numeric points in r (its keys and times, its order and limit) aggregated per
    /// series and per time bucket of `step` microseconds (aligned to ts 0): one Bucket
    /// per series and bucket holding a point, in (key, start) order (descending for a
    /// reverse() range), at most r's limit of buckets; values[i] is functions[i].
    /// Records of bytes are left out. step <= 0, no function or a value that is no
    /// Agg throws FLOWDB_INVALID_ARGUMENT.
    std::vector<Bucket> aggregate(const Range &r, int64_t step, const std::vector<Agg> &functions) const {
        return detail::buckets(functions, [&](const int32_t *f, size_t n, flowdb_buckets_t **o, flowdb_error_t **e) {
            return flowdb_engine_aggregate(h_, r.get(), step, f, n, o, e);
        });
    }
    /// aggregate() with the series grouped by `group`: one Bucket per group and time
    /// bucket, keyed by the group's key, in (group key, start) order.
    std::vector<Bucket> aggregate_by(const Range &r, int64_t step, const std::vector<Agg> &functions, const GroupBy &group) const {
        return detail::buckets(functions, [&](const int32_t *f, size_t n, flowdb_buckets_t **o, flowdb_error_t **e) {
            return flowdb_engine_aggregate_by(h_, r.get(), step, f, n, group.get(), o, e);
        });
    }
    /// Rolls every rule's due buckets and re-rolls the dirty ones now (background
    /// maintenance does it every round); nothing to do without rules.
    void run_rollups() { simple(flowdb_engine_run_rollups); }
    /// The rollup `name`'s watermark: every bucket ending at or before it is rolled
    /// (INT64_MIN: none yet). An unknown name throws FLOWDB_NOT_FOUND.
    int64_t rollup_watermark(const std::string &name) const {
        int64_t wm = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_rollup_watermark(h_, detail::c_str(name, "name"), &wm, &err), err);
        return wm;
    }
    /// The rolled points of the rollup `name` in r (keys "<function>:<raw key>", ts the
    /// bucket's start; Record::as_f64() reads the value).
    std::vector<Record> rollup_query(const std::string &name, const Range &r) const {
        return list([&](flowdb_records_t **o, flowdb_error_t **e) {
            return flowdb_engine_rollup_query(h_, detail::c_str(name, "name"), r.get(), o, e);
        }).to_vector();
    }
    /// aggregate() on the rollup `name`: Range::prefix("max:cpu."), an hour and
    /// Agg::max give the maximum per hour from the rolled maxima.
    std::vector<Bucket> rollup_aggregate(const std::string &name, const Range &r, int64_t step, const std::vector<Agg> &functions) const {
        return detail::buckets(functions, [&](const int32_t *f, size_t n, flowdb_buckets_t **o, flowdb_error_t **e) {
            return flowdb_engine_rollup_aggregate(h_, detail::c_str(name, "name"), r.get(), step, f, n, o, e);
        });
    }
    /// aggregate_by() on the rollup `name`.
    std::vector<Bucket> rollup_aggregate_by(const std::string &name, const Range &r, int64_t step, const std::vector<Agg> &functions, const GroupBy &group) const {
        return detail::buckets(functions, [&](const int32_t *f, size_t n, flowdb_buckets_t **o, flowdb_error_t **e) {
            return flowdb_engine_rollup_aggregate_by(h_, detail::c_str(name, "name"), r.get(), step, f, n, group.get(), o, e);
        });
    }
    /// The series (distinct keys) beginning with prefix (empty: all), in key order,
    /// from metadata: no point is read (SeriesInfo::points is an estimate).
    std::vector<SeriesInfo> series(std::string_view prefix = {}) const { return series_page(prefix, {}, UINT64_MAX); }
    /// One page of series(prefix): at most limit series whose key is greater than
    /// after (empty: from the first); the next page starts after this one's last key.
    std::vector<SeriesInfo> series_page(std::string_view prefix, std::string_view after, uint64_t limit) const {
        return detail::series([&](flowdb_series_t **o, flowdb_error_t **e) {
            return flowdb_engine_series(h_, detail::bytes(prefix), prefix.size(), detail::bytes(after), after.size(), limit, o, e);
        });
    }

    /// Applies the batch atomically; with sync, durable when it returns.
    void write(const WriteBatch &b, bool sync = false) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_write(h_, b.get(), sync, &err), err);
    }
    /// A consistent view of the engine as of now.
    Snapshot snapshot() const {
        flowdb_snapshot_t *p = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_snapshot(h_, &p, &err), err);
        return Snapshot(p);
    }

    /// Flushes memtables to tables.
    void flush() { simple(flowdb_engine_flush); }
    /// Flushes memtables and syncs the log (Rust's Engine::close); the engine stays open.
    void sync() { simple(flowdb_engine_sync); }
    /// The old name of sync(): it closes nothing (shutdown() does).
    [[deprecated("use sync(): close() only flushes and syncs; shutdown() closes")]] void close() { sync(); }
    /// Syncs, stops background work and releases the directory lock; later calls
    /// throw FLOWDB_CLOSED. The destructor frees the handle (with or without this).
    void shutdown() { simple(flowdb_engine_shutdown); }
    bool trigger_compaction() {
        bool done = false;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_trigger_compaction(h_, &done, &err), err);
        return done;
    }
    /// The merges background maintenance would run, until none is due; returns the
    /// steps that did something.
    uint64_t run_compactions() {
        uint64_t n = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_run_compactions(h_, &n, &err), err);
        return n;
    }
    uint64_t trigger_gc() {
        uint64_t n = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_trigger_gc(h_, &n, &err), err);
        return n;
    }
    /// Enforces the retention limits now (as maintenance does each tick): the cutoff
    /// written (every record with ts below it is gone), or nullopt when nothing was due.
    std::optional<int64_t> enforce_retention() {
        bool has = false;
        int64_t cutoff = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_enforce_retention(h_, &has, &cutoff, &err), err);
        if (!has) return std::nullopt;
        return cutoff;
    }
    flowdb_stats_t stats() const {
        flowdb_stats_t s{};
        s.struct_size = sizeof s;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_stats(h_, &s, &err), err);
        return s;
    }
    /// The metrics in the Prometheus text format (labelled by Options::metrics_label).
    std::string metrics_text() const {
        char *text = nullptr;
        size_t len = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_metrics_text(h_, &text, &len, &err), err);
        detail::OwnedString owned(text);
        return std::string(text, len);
    }

    /// Writes a consistent copy of the database as of now into dest, a directory that
    /// must not exist (FLOWDB_INVALID_ARGUMENT otherwise), while writers go on: tables
    /// and log segments hard-linked where the file system allows. The copy opens as a
    /// normal database; a crash leaves no dest or a complete one. (Const: the database
    /// is not changed.)
    void checkpoint(const std::string &dest) const {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_checkpoint(h_, detail::c_str(dest, "dest"), &err), err);
    }
    /// checkpoint(), copying every file (no hard links): a backup for another disk.
    void backup_to(const std::string &dest) const {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_backup_to(h_, detail::c_str(dest, "dest"), &err), err);
    }
    /// For an engine from open_read_only(): moves it to the writer's present (new
    /// reads see what the writer wrote since). On a writing engine it does nothing.
    void catch_up() { simple(flowdb_engine_catch_up); }
    /// The background error that stops writes, or nullopt. Background work (a flush,
    /// a merge, the log sync) that fails sets it; writes then throw an error of its
    /// kind until resume() succeeds, and reads go on.
    std::optional<Error> background_error() const {
        flowdb_error_t *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_background_error(h_, &out, &err), err);
        return detail::take_error(out);
    }
    /// Once the cause of the background error is fixed (disk space freed): retries the
    /// log sync and the flushes and clears the error; throws the new error (which
    /// stands) when they fail. Returns at once when no background error stands.
    void resume() { simple(flowdb_engine_resume); }
    /// Sets the function that receives the engine's events (an empty one: none), in
    /// order, on a thread of the library's. The Engine owns f until it is replaced,
    /// cleared or the Engine destroyed; each of those (and shutdown()) returns only
    /// after f's last call. f may call this Engine's other methods, but not
    /// set_event_listener, clear_event_listener, shutdown or the destructor. An
    /// exception f throws is caught and dropped (that event is lost).
    void set_event_listener(EventListener f) {
        detail::set_listener(flowdb_engine_set_event_listener, h_, listener_, std::move(f));
    }
    /// Removes the event listener (waiting for its last call).
    void clear_event_listener() { set_event_listener(nullptr); }
    const flowdb_engine_t *get() const noexcept { return h_; }

private:
    explicit Engine(flowdb_engine_t *h) : h_(h) {}
    static void call(const Status &s) {
        if (!s.ok()) throw Error(s.code, s.message);
    }
    template <class F>
    static Status write(const std::vector<Record> &records, F &&f) {
        std::vector<flowdb_record_view_t> vs;
        vs.reserve(records.size());
        for (const auto &r : records) vs.push_back(detail::view(r));
        flowdb_error_t *err = nullptr;
        flowdb_status_t code = f(vs.data(), vs.size(), &err);
        return detail::status(code, err);
    }
    template <class F>
    static RecordList list(F &&f) { return detail::records(std::forward<F>(f)); }
    static std::optional<Record> first(const RecordList &l) { return detail::first(l); }
    void simple(flowdb_status_t (*f)(const flowdb_engine_t *, flowdb_error_t **)) {
        flowdb_error_t *err = nullptr;
        detail::check(f(h_, &err), err);
    }
    flowdb_engine_t *h_;
    std::unique_ptr<detail::Listener> listener_;  // the event listener's user data
};

}  // namespace flowdb

#endif  // FLOWDB_ENGINE_HPP
