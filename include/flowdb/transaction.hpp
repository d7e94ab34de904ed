// flowdb/transaction.hpp: Transaction and Upgrade (a schema-changing transaction),
// with the detail helper that runs an upgrade function.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_TRANSACTION_HPP
#define FLOWDB_TRANSACTION_HPP

#include "common.hpp"
#include "keys.hpp"
#include "cursor.hpp"
#include "requests.hpp"

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowdb {

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

}  // namespace flowdb

#endif  // FLOWDB_TRANSACTION_HPP
