// flowdb/requests.hpp: detail::RangeRequests, the key-range requests JsonDB and
// Transaction share.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_REQUESTS_HPP
#define FLOWDB_REQUESTS_HPP

#include "common.hpp"
#include "keys.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace flowdb {

namespace detail {
// The C callback of a key visit, calling f(key) through a Callee.
template <class F>
bool key_call(const flowdb_key_view_t *key, void *user) noexcept {
    return (*static_cast<Callee<F> *>(user))(*key);
}
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
    static constexpr auto get_all_keys_visit = flowdb_txn_get_all_keys_visit;
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
    static constexpr auto get_all_keys_visit = flowdb_jsondb_get_all_keys_visit;
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
    template <class Fn>
    uint64_t keys_each(const char *store, const char *index, const KeyRange &r, size_t count, Fn &f) const {
        return detail::calling(f, [&](void *u, uint64_t *handed, flowdb_error_t **e) {
            return F::get_all_keys_visit(h(), store, index, r.get(), count, &detail::key_call<Fn>, u, handed, e);
        });
    }

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
    /// Primary keys in r, ascending, at most count (0: all), handed to f(const KeyView &)
    /// one at a time where they lie, typed (a number as a double, a string as UTF-8: no
    /// JSON); f returns void (go on) or bool (false: stop). Returns how many keys f was
    /// given; an exception from f stops the visit and is rethrown.
    template <class Fn>
    uint64_t get_all_keys_each(const std::string &store, const KeyRange &r, size_t count, Fn f) const {
        return keys_each(detail::c_str(store, "store"), nullptr, r, count, f);
    }
    /// get_all_keys_each over the index entries with a key in r, in (index key, primary
    /// key) order.
    template <class Fn>
    uint64_t get_all_keys_by_index_each(const std::string &store, const std::string &index, const KeyRange &r, size_t count, Fn f) const {
        return keys_each(detail::c_str(store, "store"), detail::c_str(index, "index"), r, count, f);
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

}  // namespace flowdb

#endif  // FLOWDB_REQUESTS_HPP
