// flowdb/changes.hpp: the change feed: ChangeKind, Change and Subscription.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_CHANGES_HPP
#define FLOWDB_CHANGES_HPP

#include "common.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace flowdb {

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

}  // namespace flowdb

#endif  // FLOWDB_CHANGES_HPP
