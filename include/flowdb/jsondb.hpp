// flowdb/jsondb.hpp: Query and JsonDB, the JSON document database.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_JSONDB_HPP
#define FLOWDB_JSONDB_HPP

#include "common.hpp"
#include "options.hpp"
#include "events.hpp"
#include "keys.hpp"
#include "cursor.hpp"
#include "requests.hpp"
#include "transaction.hpp"
#include "changes.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowdb {

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

#endif  // FLOWDB_JSONDB_HPP
