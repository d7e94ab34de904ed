// flowdb.hpp: a header-only C++17 wrapper over flowdb.h.
//
// Move-only RAII classes own the C handles (Options, Engine, Scan, RecordList, JsonDB,
// Transaction, Cursor, Query, KeyRange). JSON documents and keys are JSON text (std::string).
// Names (stores, indexes, fields, paths) go to C as NUL-terminated strings: one holding
// a NUL byte throws FLOWDB_INVALID_ARGUMENT. Builders (Options, WriteBatch, Query,
// Range) chain on named objects and on temporaries (returned by value).
// Failures throw flowdb::Error, which carries the flowdb_status_t. The non-throwing
// form: flowdb::attempt([&] { ... }) runs any calls and returns a flowdb::Status
// (Engine::try_open and Engine::try_write_batch are direct forms of the common ones).
// Keys and values are byte strings passed as std::string_view. Lookups return
// std::optional. A Scan is iterated with range-for (newest first when its Range is
// reverse()); the RecordView it yields borrows from the scan and is valid until the
// scan reads the next record (or seeks); iterators step lazily (a loop stopped after n
// steps, as std::views::take(n), leaves the rest to the next loop). Scans and record lists are ranges for the standard library
// and C++20's std::ranges (their iterators model std::input_iterator; a RecordList's
// std::forward_iterator). A JsonDB Cursor (from a Transaction, or JsonDB::open_cursor)
// is iterated with range-for too, yielding owned CursorEntry values, and moved with
// continue_to()/advance(). Reads are const: a `const Engine &` or `const JsonDB &` can
// read but not write. Thread safety is the C API's: an Engine may be shared by
// threads; a Scan is used by one thread at a time. Schema versions:
// JsonDB::open_with_version() and upgrade_to() call a function (a lambda) with an
// Upgrade, the upgrade's Transaction with the schema changes; an exception it throws
// aborts the upgrade and reaches the caller. The change feed: JsonDB::subscribe()
// gives a Subscription whose next(timeout) returns the next committed Change.
// Numeric series (docs/numeric.md): Engine::write_points() writes Points (key, ts,
// double), Record::as_f64() reads one back, Scan::is_point() tells a point from bytes,
// and aggregate()/aggregate_by() (on Engine and Snapshot) return Buckets of Agg results
// per series or per GroupBy group.
//
// Lifecycle: sync() flushes and syncs (the handle stays open; Rust's close()),
// shutdown() syncs, stops background work and releases the directory lock, and the
// destructor frees the handle (docs/c-api-names.md has the names in every language).
// Operations: checkpoint() and backup_to() copy a live database, open_read_only() and
// catch_up() follow a directory another process writes, background_error() and
// resume() report and clear a failed background flush, and set_event_listener() hands
// a std::function every flush, merge, stall and background error (the Engine or JsonDB
// owns the function; it is called on a thread of the library's).
// The wrapper is C++17; it uses nothing newer unless compiled as C++20.
#ifndef FLOWDB_HPP
#define FLOWDB_HPP

#include "flowdb.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowdb {

/// A failed call: its status code and message. what() is the message after the
/// code's name ("LOCKED: locked: ..."); message() is the message alone, as a Status
/// (a try_ form, attempt()) holds it.
class Error : public std::runtime_error {
public:
    Error(flowdb_status_t code, const std::string &message)
        : std::runtime_error(std::string(name(code)) + ": " + message), code_(code),
          prefix_(std::char_traits<char>::length(name(code)) + 2) {}
    flowdb_status_t code() const noexcept { return code_; }
    /// The message without the code's name (the end of what(), valid as long as it).
    const char *message() const noexcept { return std::runtime_error::what() + prefix_; }

private:
    static const char *name(flowdb_status_t code) noexcept { return flowdb_status_str(static_cast<int32_t>(code)); }
    flowdb_status_t code_;
    size_t prefix_;  // "<name>: " in what(): no string of its own, so copies cannot throw
};

/// The outcome of a non-throwing call.
struct Status {
    flowdb_status_t code = FLOWDB_OK;
    std::string message;
    bool ok() const noexcept { return code == FLOWDB_OK; }
    explicit operator bool() const noexcept { return ok(); }
};

namespace detail {
// Sets a Status's message without throwing: when the copy cannot be allocated the
// message stays empty (the code is kept).
inline void set_message(Status &s, const char *message) noexcept {
    try {
        s.message = message;
    } catch (...) {
    }
}
}  // namespace detail

/// Runs `f` (any flowdb calls) and reports a flowdb::Error as a Status instead of
/// throwing it: its code and message() (the message a try_ form gives).
template <class F>
Status attempt(F &&f) noexcept {
    Status s;
    try {
        f();
    } catch (const Error &e) {
        s.code = e.code();
        detail::set_message(s, e.message());
    } catch (const std::exception &e) {
        // Not flowdb's: the message kept (FLOWDB_INTERNAL: no code of ours fits).
        s.code = FLOWDB_INTERNAL;
        detail::set_message(s, e.what());
    } catch (...) {
        s.code = FLOWDB_INTERNAL;
        detail::set_message(s, "unexpected exception");
    }
    return s;
}

namespace detail {
// Frees what the library returned with F (a flowdb_*_free) as a unique_ptr's deleter.
// The unique_ptr takes it before anything is copied out of it, so that a copy that
// throws (std::bad_alloc) leaks nothing.
template <auto F>
struct Free {
    template <class T>
    void operator()(T *p) const noexcept { F(p); }
};
using OwnedError = std::unique_ptr<flowdb_error_t, Free<flowdb_error_free>>;
using OwnedString = std::unique_ptr<char, Free<flowdb_string_free>>;

// `err` is taken by reference: in `check(f(&err), err)` the argument order is
// unspecified, so a by-value `err` could be read before `f` sets it.
inline Status status(flowdb_status_t code, flowdb_error_t *&err) {
    OwnedError owned(std::exchange(err, nullptr));
    Status s;
    s.code = code;
    if (code != FLOWDB_OK) s.message = flowdb_error_message(owned.get());
    return s;
}
inline void check(flowdb_status_t code, flowdb_error_t *&err) {
    Status s = status(code, err);
    if (!s.ok()) throw Error(s.code, s.message);
}
inline const uint8_t *bytes(std::string_view s) { return reinterpret_cast<const uint8_t *>(s.data()); }
// `s` as the NUL-terminated string C reads (a name, a path, a key path): one holding a
// NUL byte would be cut short there, so it throws FLOWDB_INVALID_ARGUMENT naming
// `what` (the parameter) instead.
inline const char *c_str(const std::string &s, const char *what) {
    if (s.find('\0') != std::string::npos) throw Error(FLOWDB_INVALID_ARGUMENT, std::string(what) + " holds a NUL byte");
    return s.c_str();
}
// The strings of `v` as C strings (each checked by c_str), for a `const char *const *`.
inline std::vector<const char *> c_strs(const std::vector<std::string> &v, const char *what) {
    std::vector<const char *> out;
    out.reserve(v.size());
    for (const auto &s : v) out.push_back(c_str(s, what));
    return out;
}
// A value read as a number (flowdb_record_as_f64): nullopt unless it is 8 bytes.
inline std::optional<double> as_f64(std::string_view value) noexcept {
    flowdb_record_view_t v{nullptr, 0, 0, 0, bytes(value), value.size()};
    double d = 0;
    if (flowdb_record_as_f64(&v, &d, nullptr) != FLOWDB_OK) return std::nullopt;
    return d;
}
}  // namespace detail

/// An owned record.
struct Record {
    std::string key;
    int64_t ts = 0;
    int64_t expire_at = FLOWDB_NEVER_EXPIRES;
    std::string value;
    /// The number a numeric point's record holds (its 8 bytes, little-endian, bit for
    /// bit); nullopt when the value is not 8 bytes. The mark of a point is not checked.
    std::optional<double> as_f64() const noexcept { return detail::as_f64(value); }
};

/// A borrowed record (from a RecordList or a Scan).
struct RecordView {
    std::string_view key;
    int64_t ts;
    int64_t expire_at;
    std::string_view value;
    Record to_record() const { return Record{std::string(key), ts, expire_at, std::string(value)}; }
    /// Record::as_f64 of the view.
    std::optional<double> as_f64() const noexcept { return detail::as_f64(value); }
};

inline RecordView view_of(const flowdb_record_view_t &v) {
    return RecordView{std::string_view(reinterpret_cast<const char *>(v.key), v.key_len), v.ts, v.expire_at,
                      std::string_view(reinterpret_cast<const char *>(v.value), v.value_len)};
}

enum class Agg : int32_t;

/// A downsampling rule (Options::rollup; docs/numeric.md, "Rollups"): every `step`
/// microseconds, the points of each series beginning with `prefix` (empty: all) are
/// folded by each function (count, sum, min, max, first, last) and kept as points
/// keyed "<function>:<raw key>" in <data dir>/rollups/<name>/, `keep_secs` seconds (0:
/// forever), rolled `delay` microseconds after each bucket's end (default one step).
/// Checked at open: a bad rule throws FLOWDB_INVALID_ARGUMENT naming it.
/// `RollupRule("1m", 60'000'000, {Agg::max}).with_prefix("cpu.").with_keep_secs(86400)`
/// (the with_ builders return a named rule by reference, a temporary by value).
struct RollupRule {
    RollupRule(std::string name_, int64_t step_, std::vector<Agg> functions_)
        : name(std::move(name_)), step(step_), functions(std::move(functions_)) {}
    RollupRule &with_prefix(std::string p) & { prefix = std::move(p); return *this; }
    RollupRule with_prefix(std::string p) && { return std::move(with_prefix(std::move(p))); }
    RollupRule &with_keep_secs(uint64_t secs) & { keep_secs = secs; return *this; }
    RollupRule with_keep_secs(uint64_t secs) && { return std::move(with_keep_secs(secs)); }
    RollupRule &with_delay(int64_t d) & { delay = d; return *this; }
    RollupRule with_delay(int64_t d) && { return std::move(with_delay(d)); }

    std::string name;
    int64_t step = 0;
    std::vector<Agg> functions;
    std::string prefix;
    uint64_t keep_secs = 0;
    std::optional<int64_t> delay;
};

/// Options for Engine::open (every Config field; defaults as in the C API). The
/// setters chain: on a named Options each returns a reference to it; on a temporary
/// it returns the Options itself (moved), so that `const auto &o =
/// Options().data_dir(d).auto_background(false);` owns what it names.
class Options {
public:
    Options() : p_(flowdb_options_new()) {}
    ~Options() { flowdb_options_free(p_); }
    Options(Options &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Options &operator=(Options &&o) noexcept { std::swap(p_, o.p_); return *this; }
    Options(const Options &) = delete;
    Options &operator=(const Options &) = delete;

    Options &data_dir(const std::string &dir) & { return set(flowdb_options_set_data_dir(p_, detail::c_str(dir, "data_dir"), &err_)); }
    Options data_dir(const std::string &dir) && { return std::move(data_dir(dir)); }
    Options &default_ttl_secs(std::optional<uint64_t> ttl) & { return set(flowdb_options_set_default_ttl_secs(p_, ttl.has_value(), ttl.value_or(0), &err_)); }
    Options default_ttl_secs(std::optional<uint64_t> ttl) && { return std::move(default_ttl_secs(ttl)); }
    Options &sync_always() & { return set(flowdb_options_set_sync_mode(p_, FLOWDB_SYNC_ALWAYS, 0, &err_)); }
    Options sync_always() && { return std::move(sync_always()); }
    Options &sync_interval_ms(uint64_t ms) & { return set(flowdb_options_set_sync_mode(p_, FLOWDB_SYNC_INTERVAL, ms, &err_)); }
    Options sync_interval_ms(uint64_t ms) && { return std::move(sync_interval_ms(ms)); }
    Options &gc_interval_secs(uint64_t v) & { return set(flowdb_options_set_gc_interval_secs(p_, v, &err_)); }
    Options gc_interval_secs(uint64_t v) && { return std::move(gc_interval_secs(v)); }
    Options &memtable_size_mb(uint64_t v) & { return set(flowdb_options_set_memtable_size_mb(p_, v, &err_)); }
    Options memtable_size_mb(uint64_t v) && { return std::move(memtable_size_mb(v)); }
    Options &max_frozen_memtables(uint64_t v) & { return set(flowdb_options_set_max_frozen_memtables(p_, v, &err_)); }
    Options max_frozen_memtables(uint64_t v) && { return std::move(max_frozen_memtables(v)); }
    Options &block_size(uint64_t v) & { return set(flowdb_options_set_block_size(p_, v, &err_)); }
    Options block_size(uint64_t v) && { return std::move(block_size(v)); }
    Options &flush_interval_ms(uint64_t v) & { return set(flowdb_options_set_flush_interval_ms(p_, v, &err_)); }
    Options flush_interval_ms(uint64_t v) && { return std::move(flush_interval_ms(v)); }
    Options &time_bucket_secs(uint64_t v) & { return set(flowdb_options_set_time_bucket_secs(p_, v, &err_)); }
    Options time_bucket_secs(uint64_t v) && { return std::move(time_bucket_secs(v)); }
    Options &index_memory_budget_mb(uint64_t v) & { return set(flowdb_options_set_index_memory_budget_mb(p_, v, &err_)); }
    Options index_memory_budget_mb(uint64_t v) && { return std::move(index_memory_budget_mb(v)); }
    Options &block_cache_capacity_mb(uint64_t v) & { return set(flowdb_options_set_block_cache_capacity_mb(p_, v, &err_)); }
    Options block_cache_capacity_mb(uint64_t v) && { return std::move(block_cache_capacity_mb(v)); }
    Options &bloom_bits_per_key(uint64_t v) & { return set(flowdb_options_set_bloom_bits_per_key(p_, v, &err_)); }
    Options bloom_bits_per_key(uint64_t v) && { return std::move(bloom_bits_per_key(v)); }
    Options &wal_segment_size_mb(uint64_t v) & { return set(flowdb_options_set_wal_segment_size_mb(p_, v, &err_)); }
    Options wal_segment_size_mb(uint64_t v) && { return std::move(wal_segment_size_mb(v)); }
    Options &compaction_threshold(uint64_t v) & { return set(flowdb_options_set_compaction_threshold(p_, v, &err_)); }
    Options compaction_threshold(uint64_t v) && { return std::move(compaction_threshold(v)); }
    // Tuning beyond the configuration (Rust's Tuning), checked at open.
    Options &block_compression(flowdb_compression_t c) & { return set(flowdb_options_set_block_compression(p_, c, &err_)); }
    Options block_compression(flowdb_compression_t c) && { return std::move(block_compression(c)); }
    Options &zstd_level(int32_t v) & { return set(flowdb_options_set_zstd_level(p_, v, &err_)); }
    Options zstd_level(int32_t v) && { return std::move(zstd_level(v)); }
    Options &block_restart_interval(uint64_t v) & { return set(flowdb_options_set_block_restart_interval(p_, v, &err_)); }
    Options block_restart_interval(uint64_t v) && { return std::move(block_restart_interval(v)); }
    Options &index_partition_blocks(uint64_t v) & { return set(flowdb_options_set_index_partition_blocks(p_, v, &err_)); }
    Options index_partition_blocks(uint64_t v) && { return std::move(index_partition_blocks(v)); }
    Options &target_table_bytes(uint64_t v) & { return set(flowdb_options_set_target_table_bytes(p_, v, &err_)); }
    Options target_table_bytes(uint64_t v) && { return std::move(target_table_bytes(v)); }
    /// Retention by age: records with a ts more than `secs` seconds before now are
    /// deleted by maintenance (or Engine::enforce_retention). 0: no limit (the default).
    Options &retention_max_age_secs(uint64_t secs) & { return set(flowdb_options_set_retention_max_age_secs(p_, secs, &err_)); }
    Options retention_max_age_secs(uint64_t secs) && { return std::move(retention_max_age_secs(secs)); }
    /// Retention by size: past `bytes` of tables, the oldest data is deleted until they
    /// fit. 0: no limit (the default).
    Options &retention_max_bytes(uint64_t bytes) & { return set(flowdb_options_set_retention_max_bytes(p_, bytes, &err_)); }
    Options retention_max_bytes(uint64_t bytes) && { return std::move(retention_max_bytes(bytes)); }
    /// A constant label on every metrics sample (`name="value"`), to tell several
    /// databases in one process apart; the name is checked at open (see
    /// flowdb_options_add_metrics_label). Labels accumulate until clear_metrics_labels().
    Options &metrics_label(const std::string &name, const std::string &value) & {
        return set(flowdb_options_add_metrics_label(p_, detail::c_str(name, "name"), detail::c_str(value, "value"), &err_));
    }
    Options metrics_label(const std::string &name, const std::string &value) && { return std::move(metrics_label(name, value)); }
    Options &clear_metrics_labels() & { return set(flowdb_options_clear_metrics_labels(p_, &err_)); }
    Options clear_metrics_labels() && { return std::move(clear_metrics_labels()); }
    /// Adds a downsampling rule (see RollupRule); rules accumulate until clear_rollups().
    Options &rollup(const RollupRule &r) & {
        std::vector<int32_t> fs;
        for (Agg a : r.functions) fs.push_back(static_cast<int32_t>(a));
        flowdb_rollup_rule_t c{detail::c_str(r.name, "name"), detail::bytes(r.prefix), r.prefix.size(), r.step,
                               fs.data(), fs.size(), r.keep_secs, r.delay.value_or(-1)};
        return set(flowdb_options_add_rollup(p_, &c, &err_));
    }
    Options rollup(const RollupRule &r) && { return std::move(rollup(r)); }
    Options &clear_rollups() & { return set(flowdb_options_clear_rollups(p_, &err_)); }
    Options clear_rollups() && { return std::move(clear_rollups()); }
    Options &create_if_missing(bool v) & { return set(flowdb_options_set_create_if_missing(p_, v, &err_)); }
    Options create_if_missing(bool v) && { return std::move(create_if_missing(v)); }
    Options &auto_background(bool v) & { return set(flowdb_options_set_auto_background(p_, v, &err_)); }
    Options auto_background(bool v) && { return std::move(auto_background(v)); }

    const flowdb_options_t *get() const noexcept { return p_; }

private:
    Options &set(flowdb_status_t s) {
        detail::check(s, err_);
        return *this;
    }
    flowdb_options_t *p_;
    flowdb_error_t *err_ = nullptr;
};

/// What a query or scan covers (key and time ranges include both ends), in which
/// order and how much of it: reverse() makes it newest first (descending (key, ts),
/// read backwards), limit(n) keeps the first n records in that order. The builders
/// chain on temporaries (`Range::prefix("cpu.").reverse().limit(10)`) and on named
/// ranges; queries and scans copy the range when they start.
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
    /// Newest first: descending (key, ts) order, the greatest key first, each key's
    /// points newest first (on = false: ascending again, the default).
    Range &reverse(bool on = true) & { return set(flowdb_range_set_reverse(p_, on, &err_)); }
    // (By value on a temporary: a Range&& bound to `const auto &r = ...limit(1);`
    // would outlive the temporary it names.)
    Range reverse(bool on = true) && { return std::move(reverse(on)); }
    /// At most n records, the first n in the read's order (0: none); a Scan's limit
    /// counts again from each seek. UINT64_MAX: no limit (the default).
    Range &limit(uint64_t n) & { return set(flowdb_range_set_limit(p_, n, &err_)); }
    Range limit(uint64_t n) && { return std::move(limit(n)); }
    ~Range() { flowdb_range_free(p_); }
    Range(Range &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Range &operator=(Range &&o) noexcept { std::swap(p_, o.p_); return *this; }
    Range(const Range &) = delete;
    Range &operator=(const Range &) = delete;
    const flowdb_range_t *get() const noexcept { return p_; }

private:
    explicit Range(flowdb_range_t *p) : p_(p) {}
    Range &set(flowdb_status_t s) {
        detail::check(s, err_);
        return *this;
    }
    flowdb_range_t *p_;
    flowdb_error_t *err_ = nullptr;
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
        for (const RecordView &v : *this) out.push_back(v.to_record());
        return out;
    }

    /// Iterates the records in order, yielding RecordView values (valid while the list
    /// lives). A std::forward_iterator in C++20; for C++17 algorithms an input iterator
    /// (it yields values, not references).
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using iterator_concept = std::forward_iterator_tag;
        using value_type = RecordView;
        using difference_type = std::ptrdiff_t;
        using reference = RecordView;
        using pointer = void;
        iterator() = default;
        reference operator*() const { return (*list_)[i_]; }
        iterator &operator++() {
            ++i_;
            return *this;
        }
        iterator operator++(int) {
            iterator old = *this;
            ++i_;
            return old;
        }
        friend bool operator==(const iterator &a, const iterator &b) noexcept { return a.list_ == b.list_ && a.i_ == b.i_; }
        friend bool operator!=(const iterator &a, const iterator &b) noexcept { return !(a == b); }

    private:
        friend class RecordList;
        iterator(const RecordList *l, size_t i) : list_(l), i_(i) {}
        const RecordList *list_ = nullptr;
        size_t i_ = 0;
    };
    iterator begin() const { return iterator(this, 0); }
    iterator end() const { return iterator(this, size()); }

private:
    flowdb_records_t *p_;
};

/// A lazy scan over a snapshot, in its range's order (newest first for a reverse()
/// range); iterate with range-for. seek() moves it; a range-for after a seek reads on
/// from the new position. A range-for (or an iterator) steps past a record only when
/// it is incremented, and reads the next one when it is next looked at (compared with
/// the end or dereferenced): a loop that stops after n steps, as `scan |
/// std::views::take(n)` does, leaves the next record to whatever reads the scan next (a
/// range-for, next()), and so does a loop left by break (the record it stopped at
/// comes again). begin() reads nothing.
class Scan {
public:
    explicit Scan(flowdb_iter_t *it) : it_(it) {}
    ~Scan() { flowdb_iter_free(it_); }
    Scan(Scan &&o) noexcept
        : it_(std::exchange(o.it_, nullptr)), cur_(std::exchange(o.cur_, std::nullopt)), held_(std::exchange(o.held_, false)),
          moves_(o.moves_) {}
    Scan &operator=(Scan &&o) noexcept {
        std::swap(it_, o.it_);
        std::swap(cur_, o.cur_);
        std::swap(held_, o.held_);
        std::swap(moves_, o.moves_);
        return *this;
    }
    Scan(const Scan &) = delete;
    Scan &operator=(const Scan &) = delete;

    /// The next record (borrowed until the next call), or nullopt at the end: the one
    /// a stopped range-for looked at without stepping past it, else a new one. Inside
    /// a range-for over this scan, that is the record the loop is on, and the loop
    /// goes on after it (an explicit move replaces the loop's step).
    std::optional<RecordView> next() {
        ++moves_;
        if (held_) {
            held_ = false;
            return cur_;
        }
        return read();
    }

    /// Whether the record the scan is on (the last one next() returned or a range-for
    /// looked at) was written as a numeric point (Engine::write_points,
    /// WriteBatch::put_point): its value is then a double's 8 bytes, little-endian
    /// (RecordView::as_f64 reads it). An 8-byte value written as bytes is no point.
    /// False before the first record, at the end, and after a seek until the next
    /// read. In a range-for, name the Scan to ask it:
    /// `auto s = db.scan(r); for (const RecordView &v : s) if (s.is_point()) ...`.
    bool is_point() const {
        bool point = false;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_iter_is_point(it_, &point, &err), err);
        return point;
    }

    /// Moves the scan to (key, ts) within its range (RocksDB's Seek, SeekForPrev for a
    /// reverse scan): the next record is the first at or after (key, ts), or for a
    /// reverse scan at or before it. A position before the range restarts the scan,
    /// one beyond it ends it; the range's limit counts again from here; the scan keeps
    /// its snapshot. Also revives a scan that ended. Views from before are invalid.
    /// Inside a range-for over this scan, the loop goes on from the new position (the
    /// seek replaces the loop's step: a skip scan of the first point of each key).
    void seek(std::string_view key, int64_t ts) {
        held_ = false;
        cur_.reset();
        ++moves_;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_iter_seek(it_, detail::bytes(key), key.size(), ts, &err), err);
    }

    /// An input iterator (std::input_iterator in C++20): single pass; ++it steps past
    /// the record it is on, and the next is read when it is looked at (*it, it->,
    /// comparing with the end). *it (a view into the scan) is valid until the scan
    /// reads the next record. Iterators of one scan share its position. end() is the
    /// default-constructed iterator; in C++20 an iterator also compares with
    /// std::default_sentinel (equal at the end).
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using iterator_concept = std::input_iterator_tag;
        using value_type = RecordView;
        using difference_type = std::ptrdiff_t;
        using reference = const RecordView &;
        using pointer = const RecordView *;

        /// What it++ returns: the record it was on, copied (the step invalidates the
        /// view), so that *it++ reads it within one expression: the RecordView it
        /// gives lives until the end of that expression (a `RecordView v = *it++;`
        /// names freed memory on the next line; copy it with to_record()).
        class postfix {
        public:
            RecordView operator*() const { return RecordView{r_.key, r_.ts, r_.expire_at, r_.value}; }

        private:
            friend class iterator;
            explicit postfix(Record r) : r_(std::move(r)) {}
            Record r_;
        };

        iterator() = default;
        explicit iterator(Scan *s) : scan_(s), seen_(s->moves_) {}
        reference operator*() const { return *look(); }
        pointer operator->() const { return &*look(); }
        /// Steps past the record it is on (reading it first when nothing looked at it
        /// yet); reads nothing after it. After a seek() or next() of the scan since it
        /// looked, it does nothing: that move was the step.
        iterator &operator++() {
            if (scan_->moves_ != seen_) {
                seen_ = scan_->moves_;
                return *this;
            }
            scan_->peek();
            scan_->held_ = false;
            return *this;
        }
        postfix operator++(int) {
            postfix old(scan_->peek()->to_record());
            ++*this;
            return old;
        }
        // Not noexcept: comparing an iterator with the end reads its record.
        friend bool operator==(const iterator &a, const iterator &b) {
            bool a_end = a.at_end(), b_end = b.at_end();
            return (a_end || b_end) ? a_end == b_end : a.scan_ == b.scan_;
        }
        friend bool operator!=(const iterator &a, const iterator &b) { return !(a == b); }
#if __cplusplus >= 202002L
        friend bool operator==(const iterator &a, std::default_sentinel_t) { return a.at_end(); }
#endif

    private:
        bool at_end() const { return !scan_ || !look(); }
        // The scan's record, noting which of its moves the iterator has seen.
        const std::optional<RecordView> &look() const {
            seen_ = scan_->moves_;
            return scan_->peek();
        }
        Scan *scan_ = nullptr;
        mutable uint64_t seen_ = 0;  // the scan's moves_ when this last looked
    };
    /// An iterator on the record the scan is on: the one a stopped range-for looked at
    /// last, else the next (after a seek, from the new position). Reads nothing itself.
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

private:
    std::optional<RecordView> read() {
        bool has = false;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_iter_next(it_, &has, &err), err);
        if (!has) return std::nullopt;
        flowdb_record_view_t v;
        detail::check(flowdb_iter_record(it_, &v, &err), err);
        return view_of(v);
    }
    // The record iterators are on (nullopt: the end), read when none is held.
    const std::optional<RecordView> &peek() {
        if (!held_) {
            cur_ = read();
            held_ = true;
        }
        return cur_;
    }
    flowdb_iter_t *it_;
    std::optional<RecordView> cur_;  // the record read last, when held_
    bool held_ = false;              // cur_ is looked at, not yet stepped past
    uint64_t moves_ = 0;             // explicit moves (seek, next): each replaces a loop's step
};

namespace detail {
// A record list the library fills in through `f(&out, &err)`.
template <class F>
RecordList records(F &&f) {
    flowdb_records_t *out = nullptr;
    flowdb_error_t *err = nullptr;
    check(f(&out, &err), err);
    return RecordList(out);
}
inline std::optional<Record> first(const RecordList &l) {
    if (l.size() == 0) return std::nullopt;
    return l[0].to_record();
}
inline flowdb_record_view_t view(const Record &r) {
    return flowdb_record_view_t{bytes(r.key), r.key.size(), r.ts, r.expire_at, bytes(r.value), r.value.size()};
}
// The C callback of a last_n_visit over a callable f(ts, value) returning void (go on)
// or bool (false: stop). An exception from f stops the calls and is kept, to be
// rethrown once the C call has returned: none unwinds through the library.
template <class F>
struct Visitor {
    F &f;
    std::exception_ptr thrown;
    static bool call(int64_t ts, const uint8_t *value, size_t value_len, void *user) noexcept {
        auto *self = static_cast<Visitor *>(user);
        try {
            std::string_view v(reinterpret_cast<const char *>(value), value_len);
            if constexpr (std::is_void_v<std::invoke_result_t<F &, int64_t, std::string_view>>) {
                self->f(ts, v);
                return true;
            } else {
                return static_cast<bool>(self->f(ts, v));
            }
        } catch (...) {
            self->thrown = std::current_exception();
            return false;
        }
    }
};
// Runs `c(callback, user, &handed, &err)` (a last_n_visit) with f behind the callback;
// returns how many records f was given.
template <class F, class C>
uint64_t visit(F &f, C &&c) {
    Visitor<F> v{f, nullptr};
    uint64_t handed = 0;
    flowdb_error_t *err = nullptr;
    Status s = status(c(&Visitor<F>::call, static_cast<void *>(&v), &handed, &err), err);
    if (v.thrown) std::rethrow_exception(v.thrown);
    if (!s.ok()) throw Error(s.code, s.message);
    return handed;
}
}  // namespace detail

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

/// What an Event reports (flowdb_event_kind_t).
enum class EventKind {
    flush = FLOWDB_EVENT_FLUSH,            ///< a memtable became tables_out tables of bytes bytes
    compaction = FLOWDB_EVENT_COMPACTION,  ///< a merge replaced tables_in tables by tables_out
    stall = FLOWDB_EVENT_STALL,            ///< a writer waited `duration` for a flush
    error = FLOWDB_EVENT_ERROR,            ///< background work failed (message; stops_writes)
    resumed = FLOWDB_EVENT_RESUMED,        ///< resume() cleared the background error
};

/// "flush", "compaction", "stall", "error", "resumed" (the Rust Event::kind names).
inline const char *to_string(EventKind k) noexcept {
    switch (k) {
    case EventKind::flush: return "flush";
    case EventKind::compaction: return "compaction";
    case EventKind::stall: return "stall";
    case EventKind::error: return "error";
    case EventKind::resumed: return "resumed";
    }
    return "unknown";
}

/// One event (a copy of flowdb_event_t); fields its kind does not use are 0 or empty.
struct Event {
    EventKind kind = EventKind::flush;
    std::chrono::microseconds duration{0};
    uint64_t tables_in = 0;
    uint64_t tables_out = 0;
    uint64_t bytes = 0;
    bool stops_writes = false;  ///< an error: it became the background error
    std::string message;        ///< an error: what failed
};

/// What Engine::set_event_listener and JsonDB::set_event_listener call with each event.
using EventListener = std::function<void(const Event &)>;

namespace detail {
// The listener an Engine or JsonDB owns, on the heap: its address is the C user data,
// so it must not move when the wrapper does. The library calls `call` on its event
// thread, and every set, removal, shutdown and free of the handle waits for the last
// call. An exception from f is caught and dropped there (none may unwind into C): the
// listener loses that event only, as a Rust listener that panics does.
struct Listener {
    EventListener f;
    static void call(const flowdb_event_t *ev, void *user) noexcept {
        try {
            Event e;
            e.kind = static_cast<EventKind>(ev->kind);
            e.duration = std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(ev->duration_us));
            e.tables_in = ev->tables_in;
            e.tables_out = ev->tables_out;
            e.bytes = ev->bytes;
            e.stops_writes = ev->stops_writes;
            if (ev->message) e.message = ev->message;
            static_cast<const Listener *>(user)->f(e);
        } catch (...) {
        }
    }
};
template <class H>
using SetListener = flowdb_status_t (*)(const H *, flowdb_event_fn, void *, flowdb_error_t **);
// Installs f (none when empty) as h's listener, owned by `slot`. When the call
// fails the old listener is kept (it may still be installed); when it succeeds the old
// one has had its last call (the C call waited for it) and is destroyed.
template <class H>
void set_listener(SetListener<H> set, const H *h, std::unique_ptr<Listener> &slot, EventListener f) {
    std::unique_ptr<Listener> next;
    if (f) next.reset(new Listener{std::move(f)});
    flowdb_error_t *err = nullptr;
    check(next ? set(h, &Listener::call, next.get(), &err) : set(h, nullptr, nullptr, &err), err);
    slot = std::move(next);
}
// For destructors: removes the listener before the handle is freed (waiting for its
// last call), ignoring errors (a handle already shut down has none).
template <class H>
void drop_listener(SetListener<H> set, const H *h, const std::unique_ptr<Listener> &slot) noexcept {
    if (slot && h) set(h, nullptr, nullptr, nullptr);
}
// A background error the library returned (NULL: none), copied and freed.
inline std::optional<Error> take_error(flowdb_error_t *e) {
    OwnedError owned(e);
    if (!e) return std::nullopt;
    return Error(flowdb_error_code(e), flowdb_error_message(e));
}
}  // namespace detail

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

namespace detail {
// Takes ownership of a string the library returned.
inline std::string take(char *s) {
    OwnedString owned(s);
    return s ? std::string(s) : std::string();
}
inline std::optional<std::string> take_optional(char *s) {
    if (!s) return std::nullopt;
    return take(s);
}
}  // namespace detail

/// A key range over JSON keys (IDBKeyRange); bounds are JSON text.
class KeyRange {
public:
    static KeyRange all() { return KeyRange(flowdb_key_range_all()); }
    static KeyRange only(std::string_view key) {
        return make([&](flowdb_key_range_t **o, flowdb_error_t **e) { return flowdb_key_range_only(key.data(), key.size(), o, e); });
    }
    static KeyRange lower_bound(std::string_view key, bool open = false) {
        return make([&](flowdb_key_range_t **o, flowdb_error_t **e) { return flowdb_key_range_lower_bound(key.data(), key.size(), open, o, e); });
    }
    static KeyRange upper_bound(std::string_view key, bool open = false) {
        return make([&](flowdb_key_range_t **o, flowdb_error_t **e) { return flowdb_key_range_upper_bound(key.data(), key.size(), open, o, e); });
    }
    static KeyRange bound(std::string_view lower, std::string_view upper, bool lower_open = false, bool upper_open = false) {
        return make([&](flowdb_key_range_t **o, flowdb_error_t **e) {
            return flowdb_key_range_bound(lower.data(), lower.size(), upper.data(), upper.size(), lower_open, upper_open, o, e);
        });
    }
    ~KeyRange() { flowdb_key_range_free(p_); }
    KeyRange(KeyRange &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    KeyRange &operator=(KeyRange &&o) noexcept { std::swap(p_, o.p_); return *this; }
    KeyRange(const KeyRange &) = delete;
    KeyRange &operator=(const KeyRange &) = delete;
    const flowdb_key_range_t *get() const noexcept { return p_; }

private:
    explicit KeyRange(flowdb_key_range_t *p) : p_(p) {}
    template <class F>
    static KeyRange make(F &&f) {
        flowdb_key_range_t *p = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(f(&p, &err), err);
        return KeyRange(p);
    }
    flowdb_key_range_t *p_;
};

/// The entry a Cursor is on: its key (the index key for an index cursor), primary key
/// and document (nullopt for a key cursor), as JSON text.
struct CursorEntry {
    std::string key;
    std::string primary_key;
    std::optional<std::string> value;
};

/// A JsonDB cursor (IndexedDB's IDBCursor): a lazy walk over a store's documents or
/// an index's entries, in one of the four directions, through its transaction's view;
/// on its first entry when opened. Move it with continue_() (`continue` is a keyword),
/// continue_to(), continue_primary_key() and advance() (each returns whether it is
/// still on an entry); write through it with update() and remove(). Iterate it with
/// range-for: from the entry it is on to its end, yielding CursorEntry values. A
/// range-for's step moves the cursor only when the next entry is looked at, so a loop
/// that stops (break, or after n steps as `cursor | std::views::take(n)` does) leaves
/// it on the last entry it yielded: key(), update() and remove() act on that one, and
/// the next range-for starts after it when the loop stepped past it (an explicit move
/// made meanwhile replaces that pending step) or at it after a break. "Yielded" counts
/// every entry an algorithm looked at, not only those it passed on: after
/// `cursor | std::views::take_while(pred)` ends because `pred` failed, the cursor is on
/// the entry `pred` rejected; after `std::ranges::find_if`, on the entry found.
/// It lives within its transaction: once that is committed, aborted or destroyed,
/// every call throws FLOWDB_TRANSACTION_INACTIVE (destroying the Cursor is still
/// fine, before or after the Transaction). One from JsonDB::open_cursor holds a
/// read-only transaction of its own until destroyed. One thread at a time.
class Cursor {
public:
    explicit Cursor(flowdb_cursor_t *c) : c_(c) {}
    ~Cursor() { flowdb_cursor_free(c_); }
    Cursor(Cursor &&o) noexcept : c_(std::exchange(o.c_, nullptr)), stepped_(std::exchange(o.stepped_, false)) {}
    Cursor &operator=(Cursor &&o) noexcept {
        std::swap(c_, o.c_);
        std::swap(stepped_, o.stepped_);
        return *this;
    }
    Cursor(const Cursor &) = delete;
    Cursor &operator=(const Cursor &) = delete;

    /// The key of the entry it is on, or nullopt past its end.
    std::optional<std::string> key() const { return read(flowdb_cursor_key); }
    /// The primary key of the entry it is on, or nullopt past its end.
    std::optional<std::string> primary_key() const { return read(flowdb_cursor_primary_key); }
    /// The document it is on (as stored), or nullopt past its end and for a key cursor.
    std::optional<std::string> value() const { return read(flowdb_cursor_value); }
    /// The entry it is on, or nullopt past its end.
    std::optional<CursorEntry> entry() const {
        std::optional<std::string> k = key();
        if (!k) return std::nullopt;
        return CursorEntry{std::move(*k), primary_key().value_or(""), value()};
    }
    /// Moves to the next entry; false once past the last (IndexedDB's continue()).
    bool continue_() {
        return step([&](bool *on, flowdb_error_t **e) { return flowdb_cursor_continue(c_, on, e); });
    }
    /// Moves to the first entry whose key is `key` (JSON) or past it in the cursor's
    /// direction; a key not past the current one throws FLOWDB_DATA.
    bool continue_to(std::string_view key) {
        return step([&](bool *on, flowdb_error_t **e) { return flowdb_cursor_continue_to(c_, key.data(), key.size(), on, e); });
    }
    /// Index cursors in FLOWDB_NEXT or FLOWDB_PREV order: moves to the entry
    /// (key, primary_key) or the first past it.
    bool continue_primary_key(std::string_view key, std::string_view primary_key) {
        return step([&](bool *on, flowdb_error_t **e) {
            return flowdb_cursor_continue_primary_key(c_, key.data(), key.size(), primary_key.data(), primary_key.size(), on, e);
        });
    }
    /// Moves n entries on (n >= 1).
    bool advance(uint32_t n) {
        return step([&](bool *on, flowdb_error_t **e) { return flowdb_cursor_advance(c_, n, on, e); });
    }
    /// Replaces the document it is on with doc, whose key must be its primary key;
    /// returns the key. The cursor keeps the value it read until it moves.
    std::string update(std::string_view doc) {
        char *key = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_cursor_update(c_, doc.data(), doc.size(), &key, &err), err);
        return detail::take(key);
    }
    /// Deletes the document it is on (IndexedDB's delete(); `delete` is a keyword).
    void remove() {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_cursor_delete(c_, &err), err);
    }

    /// An input iterator (std::input_iterator in C++20) over the entries from the one
    /// the cursor is on: ++it steps past the entry, and the cursor continues when the
    /// next one is looked at (*it, it->, comparing with the end). end() is the
    /// default-constructed iterator (in C++20 std::default_sentinel compares too).
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using iterator_concept = std::input_iterator_tag;
        using value_type = CursorEntry;
        using difference_type = std::ptrdiff_t;
        using reference = const CursorEntry &;
        using pointer = const CursorEntry *;

        /// What it++ returns: the entry it was on, so that *it++ works.
        class postfix {
        public:
            const CursorEntry &operator*() const { return e_; }

        private:
            friend class iterator;
            explicit postfix(CursorEntry e) : e_(std::move(e)) {}
            CursorEntry e_;
        };

        iterator() = default;
        explicit iterator(Cursor *c) : cursor_(c) {}
        reference operator*() const { return *load(); }
        pointer operator->() const { return load(); }
        /// Steps past the entry it is on; the cursor stays on it until the next
        /// entry is looked at.
        iterator &operator++() {
            cursor_->settle();
            cursor_->stepped_ = true;
            cur_.reset();
            return *this;
        }
        postfix operator++(int) {
            postfix old(*load());
            ++*this;
            return old;
        }
        // Not noexcept: comparing an iterator with the end reads its entry.
        friend bool operator==(const iterator &a, const iterator &b) {
            bool a_end = a.at_end(), b_end = b.at_end();
            return (a_end || b_end) ? a_end == b_end : a.cursor_ == b.cursor_;
        }
        friend bool operator!=(const iterator &a, const iterator &b) { return !(a == b); }
#if __cplusplus >= 202002L
        friend bool operator==(const iterator &a, std::default_sentinel_t) { return a.at_end(); }
#endif

    private:
        // The entry the cursor is on (after the pending step), read once; nullptr
        // past its end.
        const CursorEntry *load() const {
            if (!cur_) {
                cursor_->settle();
                cur_ = cursor_->entry();
            }
            return cur_ ? &*cur_ : nullptr;
        }
        bool at_end() const { return !cursor_ || !load(); }
        Cursor *cursor_ = nullptr;
        mutable std::optional<CursorEntry> cur_;
    };
    /// An iterator on the entry the cursor is on, or after it when a range-for
    /// stepped past it (see the class). Moves and reads nothing itself.
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }
    const flowdb_cursor_t *get() const noexcept { return c_; }

private:
    using Read = flowdb_status_t (*)(const flowdb_cursor_t *, char **, flowdb_error_t **);
    std::optional<std::string> read(Read f) const {
        char *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(f(c_, &out, &err), err);
        return detail::take_optional(out);
    }
    // A move: it replaces a pending range-for step.
    template <class F>
    bool step(F &&f) {
        bool on = false;
        flowdb_error_t *err = nullptr;
        detail::check(f(&on, &err), err);
        stepped_ = false;
        return on;
    }
    // Makes the pending range-for step, if any.
    void settle() {
        if (stepped_) step([&](bool *on, flowdb_error_t **e) { return flowdb_cursor_continue(c_, on, e); });
    }
    flowdb_cursor_t *c_;
    bool stepped_ = false;  // a range-for stepped past the entry it is on
};

namespace detail {
// A string the library fills in through `f(&out, &err)`.
template <class F>
std::string text(F &&f) {
    char *out = nullptr;
    flowdb_error_t *err = nullptr;
    check(f(&out, &err), err);
    return take(out);
}
template <class F>
std::optional<std::string> optional_text(F &&f) {
    char *out = nullptr;
    flowdb_error_t *err = nullptr;
    check(f(&out, &err), err);
    return take_optional(out);
}
// The C functions of the requests JsonDB and Transaction share (RangeRequests), by
// handle type (on a JsonDB each is a transaction of its own).
template <class H>
struct RangeFns;
template <>
struct RangeFns<flowdb_txn_t *> {
    static constexpr auto add = flowdb_txn_add;
    static constexpr auto put_with_key = flowdb_txn_put_with_key;
    static constexpr auto add_with_key = flowdb_txn_add_with_key;
    static constexpr auto delete_range = flowdb_txn_delete_range;
    static constexpr auto clear = flowdb_txn_clear;
    static constexpr auto get_all = flowdb_txn_get_all;
    static constexpr auto get_all_keys = flowdb_txn_get_all_keys;
    static constexpr auto get_all_records = flowdb_txn_get_all_records;
    static constexpr auto get_key = flowdb_txn_get_key;
    static constexpr auto count_range = flowdb_txn_count_range;
    static constexpr auto get_all_by_index = flowdb_txn_get_all_by_index;
    static constexpr auto get_all_keys_by_index = flowdb_txn_get_all_keys_by_index;
    static constexpr auto get_all_records_by_index = flowdb_txn_get_all_records_by_index;
    static constexpr auto get_key_by_index = flowdb_txn_get_key_by_index;
};
template <>
struct RangeFns<const flowdb_jsondb_t *> {
    static constexpr auto add = flowdb_jsondb_add;
    static constexpr auto put_with_key = flowdb_jsondb_put_with_key;
    static constexpr auto add_with_key = flowdb_jsondb_add_with_key;
    static constexpr auto delete_range = flowdb_jsondb_delete_range;
    static constexpr auto clear = flowdb_jsondb_clear;
    static constexpr auto get_all = flowdb_jsondb_get_all;
    static constexpr auto get_all_keys = flowdb_jsondb_get_all_keys;
    static constexpr auto get_all_records = flowdb_jsondb_get_all_records;
    static constexpr auto get_key = flowdb_jsondb_get_key;
    static constexpr auto count_range = flowdb_jsondb_count_range;
    static constexpr auto get_all_by_index = flowdb_jsondb_get_all_by_index;
    static constexpr auto get_all_keys_by_index = flowdb_jsondb_get_all_keys_by_index;
    static constexpr auto get_all_records_by_index = flowdb_jsondb_get_all_records_by_index;
    static constexpr auto get_key_by_index = flowdb_jsondb_get_key_by_index;
};

/// The key-range reads and the writes beyond put and remove, on a JsonDB (each a
/// transaction of its own) and on a Transaction (as it sees its store); `Self::get()`
/// is the handle H. Results are JSON text: documents as stored, lists as JSON arrays;
/// a count of 0 means all (IndexedDB's). Reads are const; writes are not.
template <class Self, class H>
class RangeRequests {
    using F = RangeFns<H>;
    H h() const { return static_cast<const Self *>(this)->get(); }

public:
    /// Stores doc as a new document (IndexedDB's add); a document with its key already
    /// there throws FLOWDB_CONSTRAINT. Returns the key (JSON).
    std::string add(const std::string &store, std::string_view doc) {
        return text([&](char **o, flowdb_error_t **e) { return F::add(h(), detail::c_str(store, "store"), doc.data(), doc.size(), o, e); });
    }
    /// Stores doc (any JSON value) under key (JSON) in a store without a key path
    /// (out-of-line keys: key path "[]"), replacing a document with that key
    /// (IndexedDB's put(value, key)); returns the key. On a store with a key path it
    /// throws FLOWDB_DATA.
    std::string put_with_key(const std::string &store, std::string_view doc, std::string_view key) {
        return text([&](char **o, flowdb_error_t **e) {
            return F::put_with_key(h(), detail::c_str(store, "store"), doc.data(), doc.size(), key.data(), key.size(), o, e);
        });
    }
    /// put_with_key that inserts only (IndexedDB's add(value, key)): a document under
    /// key already there throws FLOWDB_CONSTRAINT.
    std::string add_with_key(const std::string &store, std::string_view doc, std::string_view key) {
        return text([&](char **o, flowdb_error_t **e) {
            return F::add_with_key(h(), detail::c_str(store, "store"), doc.data(), doc.size(), key.data(), key.size(), o, e);
        });
    }
    /// Deletes every document whose primary key is in r (IndexedDB's delete(range)).
    void delete_range(const std::string &store, const KeyRange &r) {
        flowdb_error_t *err = nullptr;
        check(F::delete_range(h(), detail::c_str(store, "store"), r.get(), &err), err);
    }
    /// Deletes every document of store; its key generator keeps its next key.
    void clear(const std::string &store) {
        flowdb_error_t *err = nullptr;
        check(F::clear(h(), detail::c_str(store, "store"), &err), err);
    }
    /// Documents whose primary key is in r, ascending, at most count (0: all): a JSON array.
    std::string get_all(const std::string &store, const KeyRange &r, size_t count = 0) const {
        return text([&](char **o, flowdb_error_t **e) { return F::get_all(h(), detail::c_str(store, "store"), r.get(), count, o, e); });
    }
    /// Primary keys in r, ascending, at most count (0: all): a JSON array.
    std::string get_all_keys(const std::string &store, const KeyRange &r, size_t count = 0) const {
        return text([&](char **o, flowdb_error_t **e) { return F::get_all_keys(h(), detail::c_str(store, "store"), r.get(), count, o, e); });
    }
    /// Documents with their keys in dir order, at most count (0: all): a JSON array of
    /// {"key","primary_key","value"} (IndexedDB's getAllRecords).
    std::string get_all_records(const std::string &store, const KeyRange &r, size_t count = 0, flowdb_direction_t dir = FLOWDB_NEXT) const {
        return text([&](char **o, flowdb_error_t **e) { return F::get_all_records(h(), detail::c_str(store, "store"), r.get(), count, dir, o, e); });
    }
    /// The lowest primary key in r, or nullopt.
    std::optional<std::string> get_key(const std::string &store, const KeyRange &r) const {
        return optional_text([&](char **o, flowdb_error_t **e) { return F::get_key(h(), detail::c_str(store, "store"), r.get(), o, e); });
    }
    /// How many documents have a primary key in r.
    size_t count_range(const std::string &store, const KeyRange &r) const {
        size_t n = 0;
        flowdb_error_t *err = nullptr;
        check(F::count_range(h(), detail::c_str(store, "store"), r.get(), &n, &err), err);
        return n;
    }
    /// Documents of the index entries with a key in r, in (index key, primary key)
    /// order, at most count (0: all): a JSON array.
    std::string get_all_by_index(const std::string &store, const std::string &index, const KeyRange &r, size_t count = 0) const {
        return text([&](char **o, flowdb_error_t **e) {
            return F::get_all_by_index(h(), detail::c_str(store, "store"), detail::c_str(index, "index"), r.get(), count, o, e);
        });
    }
    /// Primary keys of the index entries with a key in r, at most count (0: all).
    std::string get_all_keys_by_index(const std::string &store, const std::string &index, const KeyRange &r, size_t count = 0) const {
        return text([&](char **o, flowdb_error_t **e) {
            return F::get_all_keys_by_index(h(), detail::c_str(store, "store"), detail::c_str(index, "index"), r.get(), count, o, e);
        });
    }
    /// Index keys, primary keys and documents of the index entries with a key in r, in
    /// dir order, at most count (0: all): {"key","primary_key","value"} objects.
    std::string get_all_records_by_index(const std::string &store, const std::string &index, const KeyRange &r, size_t count = 0,
                                         flowdb_direction_t dir = FLOWDB_NEXT) const {
        return text([&](char **o, flowdb_error_t **e) {
            return F::get_all_records_by_index(h(), detail::c_str(store, "store"), detail::c_str(index, "index"), r.get(), count, dir, o, e);
        });
    }
    /// The primary key of the first index entry with a key in r, or nullopt.
    std::optional<std::string> get_key_by_index(const std::string &store, const std::string &index, const KeyRange &r) const {
        return optional_text([&](char **o, flowdb_error_t **e) {
            return F::get_key_by_index(h(), detail::c_str(store, "store"), detail::c_str(index, "index"), r.get(), o, e);
        });
    }
};
}  // namespace detail

/// A JsonDB transaction (one thread at a time). Not committed when destroyed: aborted.
/// The key-range reads, add, delete_range and clear come from detail::RangeRequests.
class Transaction : public detail::RangeRequests<Transaction, flowdb_txn_t *> {
public:
    explicit Transaction(flowdb_txn_t *t) : t_(t) {}
    ~Transaction() { flowdb_txn_free(t_); }
    Transaction(Transaction &&o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
    Transaction &operator=(Transaction &&o) noexcept { std::swap(t_, o.t_); return *this; }
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

    /// Stores a document; returns its key as JSON.
    std::string put(const std::string &store, std::string_view doc) {
        char *key = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_txn_put(t_, detail::c_str(store, "store"), doc.data(), doc.size(), &key, &err), err);
        return detail::take(key);
    }
    std::string put_auto(const std::string &store, std::string_view doc) {
        char *key = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_txn_put_auto(t_, detail::c_str(store, "store"), doc.data(), doc.size(), &key, &err), err);
        return detail::take(key);
    }
    std::optional<std::string> get(const std::string &store, std::string_view key) const {
        char *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_txn_get(t_, detail::c_str(store, "store"), key.data(), key.size(), &out, &err), err);
        return detail::take_optional(out);
    }
    void remove(const std::string &store, std::string_view key) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_txn_delete(t_, detail::c_str(store, "store"), key.data(), key.size(), &err), err);
    }
    size_t count(const std::string &store) const {
        size_t n = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_txn_count(t_, detail::c_str(store, "store"), &n, &err), err);
        return n;
    }
    std::string scan(const std::string &store) const {
        char *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_txn_scan(t_, detail::c_str(store, "store"), &out, &err), err);
        return detail::take(out);
    }
    std::string get_by_index(const std::string &store, const std::string &index, std::string_view value) const {
        char *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_txn_get_by_index(t_, detail::c_str(store, "store"), detail::c_str(index, "index"), value.data(), value.size(), &out, &err), err);
        return detail::take(out);
    }
    void commit() {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_txn_commit(t_, &err), err);
    }
    void abort() {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_txn_abort(t_, &err), err);
    }
    /// A cursor over the documents of store with a primary key in r, in dir order
    /// (IndexedDB's openCursor); it may outlive the transaction, unusable then.
    Cursor open_cursor(const std::string &store, const KeyRange &r, flowdb_direction_t dir = FLOWDB_NEXT) {
        return cursor([&](flowdb_cursor_t **o, flowdb_error_t **e) { return flowdb_txn_open_cursor(t_, detail::c_str(store, "store"), r.get(), dir, o, e); });
    }
    /// open_cursor without documents (openKeyCursor): it cannot update or remove.
    Cursor open_key_cursor(const std::string &store, const KeyRange &r, flowdb_direction_t dir = FLOWDB_NEXT) {
        return cursor([&](flowdb_cursor_t **o, flowdb_error_t **e) { return flowdb_txn_open_key_cursor(t_, detail::c_str(store, "store"), r.get(), dir, o, e); });
    }
    /// A cursor over the entries of index with a key in r, in dir order (its key is
    /// the index key).
    Cursor open_index_cursor(const std::string &store, const std::string &index, const KeyRange &r, flowdb_direction_t dir = FLOWDB_NEXT) {
        return cursor([&](flowdb_cursor_t **o, flowdb_error_t **e) {
            return flowdb_txn_open_index_cursor(t_, detail::c_str(store, "store"), detail::c_str(index, "index"), r.get(), dir, o, e);
        });
    }
    /// open_index_cursor without documents.
    Cursor open_index_key_cursor(const std::string &store, const std::string &index, const KeyRange &r, flowdb_direction_t dir = FLOWDB_NEXT) {
        return cursor([&](flowdb_cursor_t **o, flowdb_error_t **e) {
            return flowdb_txn_open_index_key_cursor(t_, detail::c_str(store, "store"), detail::c_str(index, "index"), r.get(), dir, o, e);
        });
    }
    flowdb_txn_t *get() const noexcept { return t_; }

private:
    template <class F>
    static Cursor cursor(F &&f) {
        flowdb_cursor_t *c = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(f(&c, &err), err);
        return Cursor(c);
    }
    flowdb_txn_t *t_;
};

/// An upgrade (IndexedDB's versionchange transaction), handed to the function that
/// JsonDB::open_with_version and JsonDB::upgrade_to call: the schema changes below,
/// and, as a Transaction, every request on every store, those it creates included.
/// It commits (with the new version) when the function returns; when the function
/// throws, it is aborted, the database is left as it was, and the exception reaches
/// the caller. Valid during the call only: keep no reference to it (its calls throw
/// FLOWDB_TRANSACTION_INACTIVE afterwards). It cannot be committed or aborted itself.
class Upgrade : public Transaction {
public:
    explicit Upgrade(flowdb_upgrade_t *up) : Transaction(txn_of(up)), up_(up) {}
    void commit() = delete;  ///< the function's return commits the upgrade
    void abort() = delete;   ///< an exception from the function aborts it

    /// JsonDB::create_object_store in the upgrade (key paths in any form; "[]": none).
    void create_object_store(const std::string &name, const std::string &key_path) {
        call([&](flowdb_error_t **e) { return flowdb_upgrade_create_object_store(up_, detail::c_str(name, "name"), detail::c_str(key_path, "key_path"), e); });
    }
    /// JsonDB::create_store (a JSON description) in the upgrade.
    void create_store(std::string_view schema_json) {
        call([&](flowdb_error_t **e) { return flowdb_upgrade_create_store(up_, schema_json.data(), schema_json.size(), e); });
    }
    void delete_object_store(const std::string &name) {
        call([&](flowdb_error_t **e) { return flowdb_upgrade_delete_object_store(up_, detail::c_str(name, "name"), e); });
    }
    /// JsonDB::create_index in the upgrade: the documents stored so far are indexed.
    void create_index(const std::string &store, const std::string &name, const std::vector<std::string> &key_paths, bool unique = false,
                      bool multi_entry = false) {
        std::vector<const char *> ps = detail::c_strs(key_paths, "key_paths");
        call([&](flowdb_error_t **e) {
            return flowdb_upgrade_create_index_with(up_, detail::c_str(store, "store"), detail::c_str(name, "name"), ps.data(), ps.size(), unique, multi_entry, e);
        });
    }
    void delete_index(const std::string &store, const std::string &name) {
        call([&](flowdb_error_t **e) { return flowdb_upgrade_delete_index(up_, detail::c_str(store, "store"), detail::c_str(name, "name"), e); });
    }
    /// Renames a store; no data is rewritten (FLOWDB_CONSTRAINT when `to` exists).
    void rename_store(const std::string &from, const std::string &to) {
        call([&](flowdb_error_t **e) { return flowdb_upgrade_rename_store(up_, detail::c_str(from, "from"), detail::c_str(to, "to"), e); });
    }
    /// Renames an index of store.
    void rename_index(const std::string &store, const std::string &from, const std::string &to) {
        call([&](flowdb_error_t **e) {
            return flowdb_upgrade_rename_index(up_, detail::c_str(store, "store"), detail::c_str(from, "from"), detail::c_str(to, "to"), e);
        });
    }
    flowdb_upgrade_t *upgrade_handle() const noexcept { return up_; }

private:
    static flowdb_txn_t *txn_of(flowdb_upgrade_t *up) {
        flowdb_txn_t *t = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_upgrade_txn(up, &t, &err), err);
        return t;
    }
    template <class F>
    static void call(F &&f) {
        flowdb_error_t *err = nullptr;
        detail::check(f(&err), err);
    }
    flowdb_upgrade_t *up_;
};

namespace detail {
// Runs an upgrade function F for the C callback: `user` is this object. What F throws
// is kept (none may unwind into C) and the upgrade aborted; run() rethrows it once the
// C call returned.
template <class F>
struct UpgradeCall {
    F &f;
    std::exception_ptr thrown = nullptr;
    static int call(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) noexcept {
        auto *self = static_cast<UpgradeCall *>(user);
        try {
            Upgrade u(up);
            self->f(u, old_version, new_version);
            return 0;
        } catch (...) {
            self->thrown = std::current_exception();
            return 1;
        }
    }
    // Makes the C call `c(callback, user, &err)`.
    template <class C>
    void run(C &&c) {
        flowdb_error_t *err = nullptr;
        flowdb_status_t code = c(&UpgradeCall::call, static_cast<void *>(this), &err);
        if (thrown) {
            flowdb_error_free(err);
            std::rethrow_exception(thrown);
        }
        check(code, err);
    }
};
}  // namespace detail

/// What a Change did to its key (flowdb_change_kind_t).
enum class ChangeKind {
    put = FLOWDB_CHANGE_PUT,        ///< the document was stored (created or replaced)
    remove = FLOWDB_CHANGE_DELETE,  ///< the document was deleted (`delete` is a keyword)
    clear = FLOWDB_CHANGE_CLEAR,    ///< every document of the store was deleted; the key is null
};

/// "put", "delete", "clear" (the names flowdb_jsondb_changes_since writes).
inline const char *to_string(ChangeKind k) noexcept {
    switch (k) {
    case ChangeKind::put: return "put";
    case ChangeKind::remove: return "delete";
    case ChangeKind::clear: return "clear";
    }
    return "unknown";
}

/// One committed change: the commit's sequence number (shared by the changes of one
/// transaction), the store, the primary key as JSON ("null" for a clear), the kind.
struct Change {
    uint64_t seq = 0;
    std::string store;
    std::string key;
    ChangeKind kind = ChangeKind::put;
};

/// A subscription to committed changes (JsonDB::subscribe, subscribe_since). It
/// does not keep its database alive, and stays safe to use after the database is
/// gone: next() then delivers what is left and throws FLOWDB_CLOSED. One thread at a
/// time; destroying it unsubscribes.
class Subscription {
public:
    explicit Subscription(flowdb_subscription_t *s) : s_(s) {}
    ~Subscription() { flowdb_subscription_free(s_); }
    Subscription(Subscription &&o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Subscription &operator=(Subscription &&o) noexcept { std::swap(s_, o.s_); return *this; }
    Subscription(const Subscription &) = delete;
    Subscription &operator=(const Subscription &) = delete;

    /// The next change, waiting for one at most `timeout` (0: not at all); nullopt
    /// when none came. Throws FLOWDB_CLOSED once the database is gone and every
    /// change it committed was delivered.
    std::optional<Change> next(std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
        flowdb_change_t c{};
        bool has = false;
        flowdb_error_t *err = nullptr;
        uint64_t ms = timeout.count() > 0 ? static_cast<uint64_t>(timeout.count()) : 0;
        detail::check(flowdb_subscription_next(s_, ms, &c, &has, &err), err);
        if (!has) return std::nullopt;
        return Change{c.seq, std::string(c.store, c.store_len), std::string(c.key, c.key_len), static_cast<ChangeKind>(c.kind)};
    }
    /// The last sequence number committed when it began (it delivers later commits).
    uint64_t start_seq() const {
        uint64_t seq = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_subscription_start_seq(s_, &seq, &err), err);
        return seq;
    }
    flowdb_subscription_t *get() const noexcept { return s_; }

private:
    flowdb_subscription_t *s_;
};

class JsonDB;

/// A query (built fluently, run with collect); results are a JSON array. The
/// builders chain as Options' setters do: on a named Query each returns a reference
/// to it, on a temporary (`db.query("users").where_eq(...)`) the Query itself, moved.
class Query {
public:
    explicit Query(const std::string &store) : q_(flowdb_query_new(detail::c_str(store, "store"))) {}
    ~Query() { flowdb_query_free(q_); }
    Query(Query &&o) noexcept : q_(std::exchange(o.q_, nullptr)) {}
    Query &operator=(Query &&o) noexcept { std::swap(q_, o.q_); return *this; }
    Query(const Query &) = delete;
    Query &operator=(const Query &) = delete;

    Query &where_eq(const std::string &field, std::string_view value) & {
        return step(flowdb_query_where_eq(q_, detail::c_str(field, "field"), value.data(), value.size(), &err_));
    }
    Query where_eq(const std::string &field, std::string_view value) && { return std::move(where_eq(field, value)); }
    /// start <= field < end (half-open).
    Query &where_range(const std::string &field, std::string_view start, std::string_view end) & {
        return step(flowdb_query_where_range(q_, detail::c_str(field, "field"), start.data(), start.size(), end.data(), end.size(), &err_));
    }
    Query where_range(const std::string &field, std::string_view start, std::string_view end) && { return std::move(where_range(field, start, end)); }
    Query &where_in(const std::string &field, std::string_view values_array) & {
        return step(flowdb_query_where_in(q_, detail::c_str(field, "field"), values_array.data(), values_array.size(), &err_));
    }
    Query where_in(const std::string &field, std::string_view values_array) && { return std::move(where_in(field, values_array)); }
    Query &order_by(const std::string &field, bool descending = false) & {
        return step(flowdb_query_order_by(q_, detail::c_str(field, "field"), descending, &err_));
    }
    Query order_by(const std::string &field, bool descending = false) && { return std::move(order_by(field, descending)); }
    Query &limit(size_t n) & { return step(flowdb_query_limit(q_, n, &err_)); }
    Query limit(size_t n) && { return std::move(limit(n)); }
    Query &offset(size_t n) & { return step(flowdb_query_offset(q_, n, &err_)); }
    Query offset(size_t n) && { return std::move(offset(n)); }
    /// Runs the query (a read: the query stays usable).
    std::string collect(const JsonDB &db) const;

private:
    Query &step(flowdb_status_t s) {
        detail::check(s, err_);
        return *this;
    }
    flowdb_query_t *q_;
    flowdb_error_t *err_ = nullptr;
};

/// The JSON document database. Thread-safe; documents and keys are JSON text. Reads
/// are const; sync(), shutdown() and the destructor as for Engine. The key-range
/// reads, add, delete_range and clear come from detail::RangeRequests.
class JsonDB : public detail::RangeRequests<JsonDB, const flowdb_jsondb_t *> {
public:
    static JsonDB open(const Options &o) {
        flowdb_jsondb_t *h = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_open(o.get(), &h, &err), err);
        return JsonDB(h);
    }
    /// Engine::open_read_only for a document database: documents, indexes and schema
    /// as of the open (catch_up() moves them on); writes throw FLOWDB_READ_ONLY.
    static JsonDB open_read_only(const Options &o) {
        flowdb_jsondb_t *h = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_open_read_only(o.get(), &h, &err), err);
        return JsonDB(h);
    }
    /// Opens the database at schema `version` (>= 1; IndexedDB's open(name,
    /// version)): when the stored version is lower (0 for a new database),
    /// `upgrade(Upgrade &up, uint64_t old_version, uint64_t new_version)` runs once
    /// and its changes commit with the new version. An exception from it aborts the
    /// upgrade (the database is left as it was, nothing is opened) and is rethrown
    /// here. A stored version above `version` throws FLOWDB_INVALID_ARGUMENT.
    template <class F>
    static JsonDB open_with_version(const Options &o, uint64_t version, F &&upgrade) {
        flowdb_jsondb_t *h = nullptr;
        detail::UpgradeCall<std::remove_reference_t<F>> call{upgrade};
        call.run([&](flowdb_upgrade_fn fn, void *user, flowdb_error_t **e) {
            return flowdb_jsondb_open_with_version(o.get(), version, fn, user, &h, e);
        });
        return JsonDB(h);
    }
    /// open_with_version's step on an open database: brings it to `version`, calling
    /// `upgrade` when the stored version is lower; the same version does nothing.
    template <class F>
    void upgrade_to(uint64_t version, F &&upgrade) {
        detail::UpgradeCall<std::remove_reference_t<F>> call{upgrade};
        call.run([&](flowdb_upgrade_fn fn, void *user, flowdb_error_t **e) { return flowdb_jsondb_upgrade_to(h_, version, fn, user, e); });
    }
    /// The schema version (0 until open_with_version or upgrade_to set one).
    uint64_t version() const { return number(flowdb_jsondb_version); }
    /// Removes the event listener (waiting for its last call), then frees the handle.
    ~JsonDB() {
        detail::drop_listener(flowdb_jsondb_set_event_listener, h_, listener_);
        flowdb_jsondb_free(h_);
    }
    JsonDB(JsonDB &&o) noexcept : h_(std::exchange(o.h_, nullptr)), listener_(std::move(o.listener_)) {}
    JsonDB &operator=(JsonDB &&o) noexcept {
        std::swap(h_, o.h_);
        std::swap(listener_, o.listener_);  // a listener stays with its handle
        return *this;
    }
    JsonDB(const JsonDB &) = delete;
    JsonDB &operator=(const JsonDB &) = delete;

    void create_object_store(const std::string &name, const std::string &key_path) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_create_object_store(h_, detail::c_str(name, "name"), detail::c_str(key_path, "key_path"), &err), err);
    }
    /// `{"name", "keyPath", "autoIncrement", "indexes": [{"name", "keyPath", "unique", "multiEntry"}]}`
    void create_store(std::string_view schema_json) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_create_store(h_, schema_json.data(), schema_json.size(), &err), err);
    }
    void create_index(const std::string &store, const std::string &name, const std::vector<std::string> &key_paths, bool unique = false, bool multi_entry = false) {
        std::vector<const char *> ps = detail::c_strs(key_paths, "key_paths");
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_create_index_with(h_, detail::c_str(store, "store"), detail::c_str(name, "name"), ps.data(), ps.size(), unique,
                                                      multi_entry, &err),
                      err);
    }
    void delete_index(const std::string &store, const std::string &name) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_delete_index(h_, detail::c_str(store, "store"), detail::c_str(name, "name"), &err), err);
    }
    void delete_object_store(const std::string &name) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_delete_object_store(h_, detail::c_str(name, "name"), &err), err);
    }
    /// The store names as a JSON array, sorted by UTF-16 code unit (IndexedDB's order).
    std::string store_names() const { return text([&](char **o, flowdb_error_t **e) { return flowdb_jsondb_store_names(h_, o, e); }); }
    std::optional<std::string> get_store(const std::string &name) const {
        char *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_get_store(h_, detail::c_str(name, "name"), &out, &err), err);
        return detail::take_optional(out);
    }

    std::string put(const std::string &store, std::string_view doc) {
        return text([&](char **o, flowdb_error_t **e) { return flowdb_jsondb_put(h_, detail::c_str(store, "store"), doc.data(), doc.size(), o, e); });
    }
    std::string put_auto(const std::string &store, std::string_view doc) {
        return text([&](char **o, flowdb_error_t **e) { return flowdb_jsondb_put_auto(h_, detail::c_str(store, "store"), doc.data(), doc.size(), o, e); });
    }
    std::optional<std::string> get(const std::string &store, std::string_view key) const {
        char *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_get(h_, detail::c_str(store, "store"), key.data(), key.size(), &out, &err), err);
        return detail::take_optional(out);
    }
    void remove(const std::string &store, std::string_view key) {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_delete(h_, detail::c_str(store, "store"), key.data(), key.size(), &err), err);
    }
    size_t count(const std::string &store) const {
        size_t n = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_count(h_, detail::c_str(store, "store"), &n, &err), err);
        return n;
    }
    std::string scan(const std::string &store) const {
        return text([&](char **o, flowdb_error_t **e) { return flowdb_jsondb_scan(h_, detail::c_str(store, "store"), o, e); });
    }
    std::string get_by_index(const std::string &store, const std::string &index, std::string_view value) const {
        return text([&](char **o, flowdb_error_t **e) {
            return flowdb_jsondb_get_by_index(h_, detail::c_str(store, "store"), detail::c_str(index, "index"), value.data(), value.size(), o, e);
        });
    }
    /// start <= index key < end (half-open, as the Rust API); see flowdb_jsondb_range_by_index.
    std::string range_by_index(const std::string &store, const std::string &index, std::string_view start, std::string_view end) const {
        return text([&](char **o, flowdb_error_t **e) {
            return flowdb_jsondb_range_by_index(h_, detail::c_str(store, "store"), detail::c_str(index, "index"), start.data(), start.size(), end.data(),
                                                end.size(), o, e);
        });
    }
    std::string index_query(const std::string &store, const std::string &index, const KeyRange &r, flowdb_direction_t dir = FLOWDB_NEXT) const {
        return text([&](char **o, flowdb_error_t **e) {
            return flowdb_jsondb_index_query(h_, detail::c_str(store, "store"), detail::c_str(index, "index"), r.get(), dir, o, e);
        });
    }
    /// Documents whose primary key is in r, in dir order (a JSON array).
    std::string get_range(const std::string &store, const KeyRange &r, flowdb_direction_t dir = FLOWDB_NEXT) const {
        return text([&](char **o, flowdb_error_t **e) { return flowdb_jsondb_get_range(h_, detail::c_str(store, "store"), r.get(), dir, o, e); });
    }
    /// How many entries of index have a key in r.
    size_t count_by_index(const std::string &store, const std::string &index, const KeyRange &r) const {
        size_t n = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_count_by_index(h_, detail::c_str(store, "store"), detail::c_str(index, "index"), r.get(), &n, &err), err);
        return n;
    }
    /// A transaction over `stores` (at least one: none throws FLOWDB_INVALID_ARGUMENT).
    Transaction transaction(const std::vector<std::string> &stores, bool read_write) {
        std::vector<const char *> ss = detail::c_strs(stores, "stores");
        flowdb_txn_t *t = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_transaction(h_, ss.data(), ss.size(), read_write ? FLOWDB_READ_WRITE_TXN : FLOWDB_READ_ONLY_TXN, &t, &err), err);
        return Transaction(t);
    }
    /// A cursor in a read-only transaction of its own over store, or over its index
    /// when given, in r and dir order; key_only: no documents read. It holds the
    /// transaction until destroyed (shutdown() throws FLOWDB_BUSY meanwhile, and
    /// read-write transactions over store wait for it). Reading only.
    Cursor open_cursor(const std::string &store, const std::optional<std::string> &index, const KeyRange &r, flowdb_direction_t dir = FLOWDB_NEXT,
                       bool key_only = false) const {
        flowdb_cursor_t *c = nullptr;
        flowdb_error_t *err = nullptr;
        const char *idx = index ? detail::c_str(*index, "index") : nullptr;
        detail::check(flowdb_jsondb_open_cursor(h_, detail::c_str(store, "store"), idx, r.get(), dir, key_only, &c, &err), err);
        return Cursor(c);
    }
    Query query(const std::string &store) const { return Query(store); }
    /// Flushes and syncs the underlying engine (Rust's JsonDB::close); stays open.
    void sync() {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_sync(h_, &err), err);
    }
    /// The old name of sync(): it closes nothing (shutdown() does).
    [[deprecated("use sync(): close() only flushes and syncs; shutdown() closes")]] void close() { sync(); }
    /// The underlying engine's flush, stats and metrics.
    void engine_flush() {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_engine_flush(h_, &err), err);
    }
    flowdb_stats_t engine_stats() const {
        flowdb_stats_t s{};
        s.struct_size = sizeof s;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_engine_stats(h_, &s, &err), err);
        return s;
    }
    std::string engine_metrics_text() const {
        return text([&](char **o, flowdb_error_t **e) { return flowdb_jsondb_engine_metrics_text(h_, o, e); });
    }
    /// Syncs, stops background work and releases the directory lock (FLOWDB_BUSY
    /// while transactions are open); later calls throw FLOWDB_CLOSED. The destructor
    /// frees the handle.
    void shutdown() {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_shutdown(h_, &err), err);
    }
    /// Engine::checkpoint: documents, indexes and schema as of one moment (committed
    /// transactions whole or not at all).
    void checkpoint(const std::string &dest) const {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_checkpoint(h_, detail::c_str(dest, "dest"), &err), err);
    }
    /// Engine::backup_to for a document database.
    void backup_to(const std::string &dest) const {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_backup_to(h_, detail::c_str(dest, "dest"), &err), err);
    }
    /// Engine::catch_up for a database from open_read_only() (its schema too).
    void catch_up() {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_catch_up(h_, &err), err);
    }
    /// Engine::background_error of the underlying engine.
    std::optional<Error> background_error() const {
        flowdb_error_t *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_background_error(h_, &out, &err), err);
        return detail::take_error(out);
    }
    /// Engine::resume of the underlying engine.
    void resume() {
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_jsondb_resume(h_, &err), err);
    }
    /// Engine::set_event_listener for the underlying engine, owned by this JsonDB (its
    /// destructor removes it, also while transactions keep the database alive).
    void set_event_listener(EventListener f) {
        detail::set_listener(flowdb_jsondb_set_event_listener, h_, listener_, std::move(f));
    }
    /// Removes the event listener (waiting for its last call).
    void clear_event_listener() { set_event_listener(nullptr); }
    /// The changes of `stores` as they commit, from the next commit on.
    Subscription subscribe(const std::vector<std::string> &stores) const { return subscription(nullptr, stores, nullptr); }
    /// subscribe, for documents whose primary key is in r (clears always come). A
    /// moved-from r throws FLOWDB_INVALID_ARGUMENT, as in every other request (the C
    /// call would take its NULL for every key).
    Subscription subscribe(const std::vector<std::string> &stores, const KeyRange &r) const { return subscription(nullptr, stores, &r); }
    /// subscribe, delivering first the logged changes after sequence number `since`,
    /// then the live ones; FLOWDB_NOT_FOUND when those changes expired from the log.
    Subscription subscribe_since(uint64_t since, const std::vector<std::string> &stores) const { return subscription(&since, stores, nullptr); }
    Subscription subscribe_since(uint64_t since, const std::vector<std::string> &stores, const KeyRange &r) const {
        return subscription(&since, stores, &r);
    }
    /// Every committed change after `since`, from the change log, as a JSON array of
    /// {"seq","store","key","kind"}; FLOWDB_NOT_FOUND when they expired from the log.
    std::string changes_since(uint64_t since) const {
        return text([&](char **o, flowdb_error_t **e) { return flowdb_jsondb_changes_since(h_, since, o, e); });
    }
    /// The sequence number of the last commit that changed documents (0: none).
    uint64_t last_change_seq() const { return number(flowdb_jsondb_last_change_seq); }
    /// How long the change log keeps a commit's changes (24 hours by default).
    void set_change_retention(std::chrono::milliseconds retention) {
        flowdb_error_t *err = nullptr;
        uint64_t ms = retention.count() > 0 ? static_cast<uint64_t>(retention.count()) : 0;
        detail::check(flowdb_jsondb_set_change_retention_ms(h_, ms, &err), err);
    }
    const flowdb_jsondb_t *get() const noexcept { return h_; }

private:
    explicit JsonDB(flowdb_jsondb_t *h) : h_(h) {}
    // r: nullptr for every key; a KeyRange without a handle (moved from) is refused.
    Subscription subscription(const uint64_t *since, const std::vector<std::string> &stores, const KeyRange *r) const {
        if (r && !r->get()) throw Error(FLOWDB_INVALID_ARGUMENT, "range is NULL (a moved-from KeyRange)");
        std::vector<const char *> ss = detail::c_strs(stores, "stores");
        flowdb_subscription_t *sub = nullptr;
        flowdb_error_t *err = nullptr;
        const flowdb_key_range_t *kr = r ? r->get() : nullptr;
        detail::check(since ? flowdb_jsondb_subscribe_since(h_, *since, ss.data(), ss.size(), kr, &sub, &err)
                            : flowdb_jsondb_subscribe(h_, ss.data(), ss.size(), kr, &sub, &err),
                      err);
        return Subscription(sub);
    }
    uint64_t number(flowdb_status_t (*f)(const flowdb_jsondb_t *, uint64_t *, flowdb_error_t **)) const {
        uint64_t n = 0;
        flowdb_error_t *err = nullptr;
        detail::check(f(h_, &n, &err), err);
        return n;
    }
    template <class F>
    static std::string text(F &&f) {
        char *out = nullptr;
        flowdb_error_t *err = nullptr;
        detail::check(f(&out, &err), err);
        return detail::take(out);
    }
    flowdb_jsondb_t *h_;
    std::unique_ptr<detail::Listener> listener_;  // the event listener's user data
};

inline std::string Query::collect(const JsonDB &db) const {
    char *out = nullptr;
    flowdb_error_t *err = nullptr;
    detail::check(flowdb_query_collect(db.get(), q_, &out, &err), err);
    return detail::take(out);
}

}  // namespace flowdb

#endif  // FLOWDB_HPP
