// flowdb/scan.hpp: reading records: Range (what a query or scan covers),
// RecordList, Scan, and the detail helpers of record lists and last_n_with.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_SCAN_HPP
#define FLOWDB_SCAN_HPP

#include "common.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowdb {

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
// The C callback of a last_n_visit, calling f(ts, value) through a Callee.
template <class F>
bool last_n_call(int64_t ts, const uint8_t *value, size_t value_len, void *user) noexcept {
    return (*static_cast<Callee<F> *>(user))(ts, std::string_view(reinterpret_cast<const char *>(value), value_len));
}
// Runs `c(callback, user, &handed, &err)` (a last_n_visit) with f behind the callback;
// returns how many records f was given.
template <class F, class C>
uint64_t visit(F &f, C &&c) {
    return calling(f, [&](void *u, uint64_t *h, flowdb_error_t **e) { return c(&last_n_call<F>, u, h, e); });
}
}  // namespace detail

}  // namespace flowdb

#endif  // FLOWDB_SCAN_HPP
