// flowdb/cursor.hpp: CursorEntry and Cursor, a JsonDB cursor.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_CURSOR_HPP
#define FLOWDB_CURSOR_HPP

#include "common.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace flowdb {

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
    std::optional<std::string> value() const {
        std::optional<std::string_view> v = value_view();
        if (!v) return std::nullopt;
        return std::string(*v);
    }
    /// The document it is on, lent where it lies (no copy; flowdb_cursor_value_view):
    /// valid until the cursor moves, updates or deletes through it, or is destroyed.
    /// Nullopt past its end and for a key cursor. Not on a temporary Cursor, whose
    /// view would dangle at once.
    std::optional<std::string_view> value_view() const & {
        const char *at = nullptr;
        size_t len = 0;
        flowdb_error_t *err = nullptr;
        detail::check(flowdb_cursor_value_view(c_, &at, &len, &err), err);
        if (!at) return std::nullopt;
        return std::string_view(at, len);
    }
    std::optional<std::string_view> value_view() const && = delete;
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

}  // namespace flowdb

#endif  // FLOWDB_CURSOR_HPP
