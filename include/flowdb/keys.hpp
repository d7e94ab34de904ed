// flowdb/keys.hpp: KeyRange, a range over JsonDB keys (JSON text), and KeyView, a key
// handed out typed by get_all_keys_each.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_KEYS_HPP
#define FLOWDB_KEYS_HPP

#include "common.hpp"

#include <string_view>
#include <utility>

namespace flowdb {

/// A key as get_all_keys_each hands it out, valid during the call only: `kind`
/// (FLOWDB_KEY_NULL, _BOOLEAN, _NUMBER, _STRING, _ARRAY) says which field holds it:
/// `boolean`, `number`, or the text (key_text(): a string as UTF-8, an array as JSON).
using KeyView = flowdb_key_view_t;
/// The text of a string or array key; empty for the others.
inline std::string_view key_text(const KeyView &k) { return k.text ? std::string_view(k.text, k.len) : std::string_view(); }

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

}  // namespace flowdb

#endif  // FLOWDB_KEYS_HPP
