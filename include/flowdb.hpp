// flowdb.hpp: a header-only C++17 wrapper over flowdb.h.
//
// Move-only RAII classes own the C handles (Options, Engine, Scan, RecordList).
// Failures throw flowdb::Error, which carries the flowdb_status_t; every throwing
// call `f(...)` also has a non-throwing form `try_f(...)` returning flowdb::Status.
// Keys and values are byte strings passed as std::string_view. Lookups return
// std::optional. A Scan is iterated with range-for; the RecordView it yields borrows
// from the scan and is valid until the next step. Thread safety is the C API's: an
// Engine may be shared by threads; a Scan is used by one thread at a time.
#ifndef FLOWDB_HPP
#define FLOWDB_HPP

#include "flowdb.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowdb {

/// A failed call: its status code and message.
class Error : public std::runtime_error {
public:
    Error(flowdb_status_t code, const std::string &message)
        : std::runtime_error(std::string(flowdb_status_str(static_cast<int32_t>(code))) + ": " + message), code_(code) {}
    flowdb_status_t code() const noexcept { return code_; }

private:
    flowdb_status_t code_;
};

/// The outcome of a non-throwing call.
struct Status {
    flowdb_status_t code = FLOWDB_OK;
    std::string message;
    bool ok() const noexcept { return code == FLOWDB_OK; }
    explicit operator bool() const noexcept { return ok(); }
};

namespace detail {
// `err` is taken by reference: in `check(f(&err), err)` the argument order is
// unspecified, so a by-value `err` could be read before `f` sets it.
inline Status status(flowdb_status_t code, flowdb_error_t *&err) {
    Status s;
    s.code = code;
    if (code != FLOWDB_OK) {
        s.message = flowdb_error_message(err);
        flowdb_error_free(err);
        err = nullptr;
    }
    return s;
}
inline void check(flowdb_status_t code, flowdb_error_t *&err) {
    Status s = status(code, err);
    if (!s.ok()) throw Error(s.code, s.message);
}
inline const uint8_t *bytes(std::string_view s) { return reinterpret_cast<const uint8_t *>(s.data()); }
}  // namespace detail

/// An owned record.
struct Record {
    std::string key;
    int64_t ts = 0;
    int64_t expire_at = FLOWDB_NEVER_EXPIRES;
    std::string value;
};

/// A borrowed record (from a RecordList or a Scan).
struct RecordView {
    std::string_view key;
    int64_t ts;
    int64_t expire_at;
    std::string_view value;
    Record to_record() const { return Record{std::string(key), ts, expire_at, std::string(value)}; }
};

inline RecordView view_of(const flowdb_record_view_t &v) {
    return RecordView{std::string_view(reinterpret_cast<const char *>(v.key), v.key_len), v.ts, v.expire_at,
                      std::string_view(reinterpret_cast<const char *>(v.value), v.value_len)};
}

/// Options for Engine::open (every Config field; defaults as in the C API).
class Options {
public:
    Options() : p_(flowdb_options_new()) {}
    ~Options() { flowdb_options_free(p_); }
    Options(Options &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Options &operator=(Options &&o) noexcept { std::swap(p_, o.p_); return *this; }
    Options(const Options &) = delete;
    Options &operator=(const Options &) = delete;

    Options &data_dir(const std::string &dir) { return set(flowdb_options_set_data_dir(p_, dir.c_str(), &err_)); }
    Options &default_ttl_secs(std::optional<uint64_t> ttl) { return set(flowdb_options_set_default_ttl_secs(p_, ttl.has_value(), ttl.value_or(0), &err_)); }
    Options &sync_always() { return set(flowdb_options_set_sync_mode(p_, FLOWDB_SYNC_ALWAYS, 0, &err_)); }
    Options &sync_interval_ms(uint64_t ms) { return set(flowdb_options_set_sync_mode(p_, FLOWDB_SYNC_INTERVAL, ms, &err_)); }
    Options &gc_interval_secs(uint64_t v) { return set(flowdb_options_set_gc_interval_secs(p_, v, &err_)); }
    Options &memtable_size_mb(uint64_t v) { return set(flowdb_options_set_memtable_size_mb(p_, v, &err_)); }
    Options &max_frozen_memtables(uint64_t v) { return set(flowdb_options_set_max_frozen_memtables(p_, v, &err_)); }
    Options &block_size(uint64_t v) { return set(flowdb_options_set_block_size(p_, v, &err_)); }
    Options &flush_interval_ms(uint64_t v) { return set(flowdb_options_set_flush_interval_ms(p_, v, &err_)); }
    Options &time_bucket_secs(uint64_t v) { return set(flowdb_options_set_time_bucket_secs(p_, v, &err_)); }
    Options &index_memory_budget_mb(uint64_t v) { return set(flowdb_options_set_index_memory_budget_mb(p_, v, &err_)); }
    Options &block_cache_capacity_mb(uint64_t v) { return set(flowdb_options_set_block_cache_capacity_mb(p_, v, &err_)); }
    Options &bloom_bits_per_key(uint64_t v) { return set(flowdb_options_set_bloom_bits_per_key(p_, v, &err_)); }
    Options &wal_segment_size_mb(uint64_t v) { return set(flowdb_options_set_wal_segment_size_mb(p_, v, &err_)); }
    Options &compaction_threshold(uint64_t v) { return set(flowdb_options_set_compaction_threshold(p_, v, &err_)); }
    Options &create_if_missing(bool v) { return set(flowdb_options_set_create_if_missing(p_, v, &err_)); }
    Options &auto_background(bool v) { return set(flowdb_options_set_auto_background(p_, v, &err_)); }

    const flowdb_options_t *get() const noexcept { return p_; }

private:
    Options &set(flowdb_status_t s) {
        detail::check(s, err_);
        return *this;
    }
    flowdb_options_t *p_;
    flowdb_error_t *err_ = nullptr;
};

/// What a query or scan covers (key and time ranges include both ends).
class Range {
public:
    static Range all() { return Range(flowdb_range_all()); }
    static Range time(int64_t start, int64_t end) { return Range(flowdb_range_time(start, end)); }
    static Range prefix(std::string_view p) { return Range(flowdb_range_prefix(detail::bytes(p), p.size())); }
    static Range prefix_time(std::string_view p, int64_t start, int64_t end) { return Range(flowdb_range_prefix_time(detail::bytes(p), p.size(), start, end)); }
    static Range keys(std::string_view start, std::string_view end) { return Range(flowdb_range_key(detail::bytes(start), start.size(), detail::bytes(end), end.size())); }
    static Range keys_time(std::string_view start, std::string_view end, int64_t ts_start, int64_t ts_end) {
        return Range(flowdb_range_key_time(detail::bytes(start), start.size(), detail::bytes(end), end.size(), ts_start, ts_end));
    }
    ~Range() { flowdb_range_free(p_); }
    Range(Range &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Range &operator=(Range &&o) noexcept { std::swap(p_, o.p_); return *this; }
    Range(const Range &) = delete;
    Range &operator=(const Range &) = delete;
    const flowdb_range_t *get() const noexcept { return p_; }

private:
    explicit Range(flowdb_range_t *p) : p_(p) {}
    flowdb_range_t *p_;
};

/// Records the library returned; views into it live as long as the list.
class RecordList {
public:
    explicit RecordList(flowdb_records_t *p = nullptr) : p_(p) {}
    ~RecordList() { flowdb_records_free(p_); }
    RecordList(RecordList &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    RecordList &operator=(RecordList &&o) noexcept { std::swap(p_, o.p_); return *this; }
    RecordList(const RecordList &) = delete;
    RecordList &operator=(const RecordList &) = delete;

    size_t size() const noexcept { return flowdb_records_len(p_); }
    RecordView operator[](size_t i) const {
        flowdb_record_view_t v;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_records_at(p_, i, &v, &err), err);
        return view_of(v);
    }
    std::vector<Record> to_vector() const {
        std::vector<Record> out;
        out.reserve(size());
        for (size_t i = 0; i < size(); i++) out.push_back((*this)[i].to_record());
        return out;
    }

private:
    flowdb_records_t *p_;
};

/// A lazy scan over a snapshot; iterate with range-for.
class Scan {
public:
    explicit Scan(flowdb_iter_t *it) : it_(it) {}
    ~Scan() { flowdb_iter_free(it_); }
    Scan(Scan &&o) noexcept : it_(std::exchange(o.it_, nullptr)) {}
    Scan &operator=(Scan &&o) noexcept { std::swap(it_, o.it_); return *this; }
    Scan(const Scan &) = delete;
    Scan &operator=(const Scan &) = delete;

    /// The next record (borrowed until the next call), or nullopt at the end.
    std::optional<RecordView> next() {
        bool has = false;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_iter_next(it_, &has, &err), err);
        if (!has) return std::nullopt;
        flowdb_record_view_t v;
        detail::check(flowdb_iter_record(it_, &v, &err), err);
        return view_of(v);
    }

    class iterator {
    public:
        using value_type = RecordView;
        using difference_type = std::ptrdiff_t;
        using reference = const RecordView &;
        using pointer = const RecordView *;
        using iterator_category = std::input_iterator_tag;
        iterator() = default;
        explicit iterator(Scan *s) : scan_(s) { ++*this; }
        reference operator*() const { return *cur_; }
        pointer operator->() const { return &*cur_; }
        iterator &operator++() {
            cur_ = scan_->next();
            if (!cur_) scan_ = nullptr;
            return *this;
        }
        bool operator==(const iterator &o) const { return scan_ == o.scan_; }
        bool operator!=(const iterator &o) const { return scan_ != o.scan_; }

    private:
        Scan *scan_ = nullptr;
        std::optional<RecordView> cur_;
    };
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

private:
    flowdb_iter_t *it_;
};

/// The engine: opened by Engine::open, shut down by shutdown() or the destructor
/// (which frees without shutdown: nothing acknowledged is lost).
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
    ~Engine() { flowdb_engine_free(h_); }
    Engine(Engine &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Engine &operator=(Engine &&o) noexcept { std::swap(h_, o.h_); return *this; }
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
    Record patch_record(std::string_view key, int64_t ts, std::optional<std::string_view> value, std::optional<uint64_t> ttl_secs) {
        flowdb_records_t *out = nullptr;
        flowdb_error_t *err = nullptr;
        std::string_view v = value.value_or(std::string_view());
        detail::check(flowdb_engine_patch_record(h_, detail::bytes(key), key.size(), ts, value.has_value(), detail::bytes(v), v.size(),
                                                 ttl_secs.has_value(), ttl_secs.value_or(0), &out, &err),
                      err);
        return RecordList(out)[0].to_record();
    }

    std::optional<Record> get(std::string_view key, int64_t ts) {
        return first(list([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_engine_get(h_, detail::bytes(key), key.size(), ts, o, e); }));
    }
    std::optional<Record> get_latest(std::string_view key) {
        return first(list([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_engine_get_latest(h_, detail::bytes(key), key.size(), o, e); }));
    }
    std::vector<Record> query(const Range &r) {
        return list([&](flowdb_records_t **o, flowdb_error_t **e) { return flowdb_engine_query(h_, r.get(), o, e); }).to_vector();
    }
    std::vector<Record> query_by_prefix(std::string_view p) { return query(Range::prefix(p)); }
    std::vector<Record> query_time_range(int64_t start, int64_t end) { return query(Range::time(start, end)); }
    Scan scan(const Range &r, bool fill_cache = true, bool verify_checksums = true) {
        flowdb_iter_t *it = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_scan_opt(h_, r.get(), fill_cache, verify_checksums, &it, &err), err);
        return Scan(it);
    }

    void flush() { simple(flowdb_engine_flush); }
    void close() { simple(flowdb_engine_close); }
    void shutdown() { simple(flowdb_engine_shutdown); }
    bool trigger_compaction() {
        bool done = false;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_trigger_compaction(h_, &done, &err), err);
        return done;
    }
    uint64_t trigger_gc() {
        uint64_t n = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_trigger_gc(h_, &n, &err), err);
        return n;
    }
    flowdb_stats_t stats() {
        flowdb_stats_t s{};
        s.struct_size = sizeof s;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_stats(h_, &s, &err), err);
        return s;
    }
    std::string metrics_text() {
        char *text = nullptr;
        size_t len = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_engine_metrics_text(h_, &text, &len, &err), err);
        std::string out(text, len);
        flowdb_string_free(text);
        return out;
    }
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
        for (const auto &r : records)
            vs.push_back(flowdb_record_view_t{detail::bytes(r.key), r.key.size(), r.ts, r.expire_at, detail::bytes(r.value), r.value.size()});
        flowdb_error_t *err = nullptr;
        flowdb_status_t code = f(vs.data(), vs.size(), &err);
        return detail::status(code, err);
    }
    template <class F>
    static RecordList list(F &&f) {
        flowdb_records_t *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(f(&out, &err), err);
        return RecordList(out);
    }
    static std::optional<Record> first(const RecordList &l) {
        if (l.size() == 0) return std::nullopt;
        return l[0].to_record();
    }
    void simple(flowdb_status_t (*f)(const flowdb_engine_t *, flowdb_error_t **)) {
        flowdb_error_t *err = nullptr;
        detail::check(f(h_, &err), err);
    }
    flowdb_engine_t *h_;
};

}  // namespace flowdb

#endif  // FLOWDB_HPP
