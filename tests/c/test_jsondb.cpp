// C++ JsonDB wrapper tests: schema, CRUD, index queries, key ranges, the query
// builder, transactions (commit, abort on destruction), error codes as exceptions,
// every read through a const JsonDB, sync and the deprecated close, metrics labels;
// the key-range reads (get_all, ...), add, delete_range, clear, and cursors;
// out-of-line keys, schema versions (open_with_version / upgrade_to with a lambda,
// an exception aborting the upgrade) and the change feed (Subscription); query
// builders chained on a temporary, cursors stepped lazily (a loop stopped after n
// steps leaves the cursor on its last entry), names holding a NUL byte refused, a
// moved-from KeyRange refused by subscribe.
#include "flowdb.hpp"
#include "refused.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

static int failures = 0, checks = 0;
#define CHECK(c)                                                                          \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(c)) { failures++; std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } \
    } while (0)

// A Query builder called on a temporary returns it by value (moved); on a named
// Query, a reference to it.
#define BUILDER(call)                                                                    \
    static_assert(std::is_same_v<decltype(std::declval<flowdb::Query>().call), flowdb::Query> && \
                      std::is_same_v<decltype(std::declval<flowdb::Query &>().call), flowdb::Query &>, \
                  #call)
BUILDER(where_eq("f", "1"));
BUILDER(where_range("f", "1", "2"));
BUILDER(where_in("f", "[1]"));
BUILDER(order_by("f"));
BUILDER(limit(1));
BUILDER(offset(1));

// A cursor's lent document is refused on a temporary Cursor (it would dangle at once).
template <class T, class = void>
struct has_value_view : std::false_type {};
template <class T>
struct has_value_view<T, std::void_t<decltype(std::declval<T>().value_view())>> : std::true_type {};
static_assert(has_value_view<flowdb::Cursor &>::value && has_value_view<const flowdb::Cursor &>::value,
              "value_view on a named Cursor");
static_assert(!has_value_view<flowdb::Cursor>::value && !has_value_view<flowdb::Cursor &&>::value,
              "value_view refused on a temporary Cursor");

template <class F>
static flowdb_status_t code_of(F &&f) {
    try {
        f();
    } catch (const flowdb::Error &e) {
        return e.code();
    }
    return FLOWDB_OK;
}

// Every read compiles on a const JsonDB; returns the total length of what they
// returned, so that a caller can check they ran.
static size_t read_everything(const flowdb::JsonDB &db) {
    size_t n = db.store_names().size() + db.get_store("users").value_or("").size();
    n += db.get("users", "1").value_or("").size() + db.count("users") + db.scan("users").size();
    n += db.get_by_index("users", "email", R"("a@x")").size() + db.range_by_index("users", "age", "0", "100").size();
    n += db.index_query("users", "age", flowdb::KeyRange::all(), FLOWDB_PREV).size();
    n += db.get_range("users", flowdb::KeyRange::lower_bound("1"), FLOWDB_NEXT).size();
    n += db.count_by_index("users", "age", flowdb::KeyRange::bound("18", "99"));
    n += db.query("users").where_eq("email", R"("a@x")").collect(db).size();
    n += db.engine_stats().struct_size + db.engine_metrics_text().size() + (db.get() != nullptr);
    const flowdb::KeyRange all = flowdb::KeyRange::all();
    n += db.get_all("users", all).size() + db.get_all_keys("users", all, 1).size() + db.get_all_records("users", all, 1, FLOWDB_PREV).size();
    n += db.get_key("users", all).value_or("").size() + db.count_range("users", all) + db.get_all_by_index("users", "age", all, 1).size();
    n += db.get_all_keys_by_index("users", "age", all).size() + db.get_all_records_by_index("users", "age", all, 1, FLOWDB_NEXT_UNIQUE).size();
    n += db.get_key_by_index("users", "age", all).value_or("").size() + db.open_cursor("users", "age", all).key().value_or("").size();
    return n;
}

using flowdb::KeyRange;

static const std::string D1 = R"({"age":30,"id":1})", D2 = R"({"age":20,"id":2})", D3 = R"({"age":30,"id":3})";

// The keys a cursor yields from where it is, by range-for.
static std::string keys_of(flowdb::Cursor &c) {
    std::string out;
    for (const flowdb::CursorEntry &e : c) out += e.key + "|";
    return out;
}

// The key-range reads and writes on a JsonDB and a Transaction, and cursors:
// range-for, continue_to / continue_primary_key / advance, update and remove, several
// on one transaction, a cursor outliving its transaction, JsonDB::open_cursor.
static void ranges_and_cursors(const std::string &dir) {
    flowdb::Options opts;
    opts.data_dir(dir).auto_background(false);
    flowdb::JsonDB db = flowdb::JsonDB::open(opts);
    db.create_store(R"({"name":"users","keyPath":"id","autoIncrement":true,"indexes":[{"name":"age","keyPath":"age"}]})");
    const KeyRange all = KeyRange::all();

    // The database's requests.
    CHECK(db.add("users", D1) == "1");
    CHECK(db.add("users", D2) == "2");
    CHECK(db.add("users", D3) == "3");
    CHECK(code_of([&] { db.add("users", D1); }) == FLOWDB_CONSTRAINT);
    CHECK(db.get_all("users", all) == "[" + D1 + "," + D2 + "," + D3 + "]");
    CHECK(db.get_all("users", all, 1) == "[" + D1 + "]");
    CHECK(db.get_all("users", KeyRange::lower_bound("2", true)) == "[" + D3 + "]");
    CHECK(db.get_all_keys("users", all) == "[1,2,3]");
    CHECK(db.get_all_records("users", all, 1, FLOWDB_PREV) == R"([{"key":3,"primary_key":3,"value":)" + D3 + "}]");
    CHECK(db.get_key("users", KeyRange::lower_bound("2")) == "2");
    CHECK(!db.get_key("users", KeyRange::only("7")));
    CHECK(db.count_range("users", KeyRange::bound("1", "2")) == 2);
    CHECK(db.get_all_by_index("users", "age", KeyRange::only("30")) == "[" + D1 + "," + D3 + "]");
    CHECK(db.get_all_keys_by_index("users", "age", all) == "[2,1,3]");
    CHECK(db.get_all_records_by_index("users", "age", all, 0, FLOWDB_PREV_UNIQUE) ==
          R"([{"key":30,"primary_key":1,"value":)" + D1 + R"(},{"key":20,"primary_key":2,"value":)" + D2 + "}]");
    CHECK(db.get_key_by_index("users", "age", KeyRange::only("30")) == "1");
    CHECK(!db.get_key_by_index("users", "age", KeyRange::only("99")));
    CHECK(code_of([&] { db.get_all("nope", all); }) == FLOWDB_NOT_FOUND);
    CHECK(code_of([&] { db.get_all_records_by_index("users", "nope", all); }) == FLOWDB_NOT_FOUND);

    // Keys handed out typed, in place: void or bool callables; an exception stops the
    // visit and comes back out of it.
    std::string seen;
    CHECK(db.get_all_keys_each("users", all, 0, [&](const flowdb::KeyView &k) {
        CHECK(k.kind == FLOWDB_KEY_NUMBER && flowdb::key_text(k).empty());
        seen += std::to_string(int(k.number)) + ";";
    }) == 3);
    CHECK(seen == "1;2;3;");
    seen.clear();
    CHECK(db.get_all_keys_by_index_each("users", "age", all, 0, [&](const flowdb::KeyView &k) {
        seen += std::to_string(int(k.number)) + ";";
        return k.number != 1;
    }) == 2);
    CHECK(seen == "2;1;");
    CHECK(code_of([&] { db.get_all_keys_each("users", all, 0, [](const flowdb::KeyView &) { throw flowdb::Error(FLOWDB_DATA, "mine"); }); }) ==
          FLOWDB_DATA);
    CHECK(code_of([&] { db.get_all_keys_by_index_each("users", "nope", all, 0, [](const flowdb::KeyView &) {}); }) == FLOWDB_NOT_FOUND);
    db.create_object_store("named", "[]");
    db.put_with_key("named", "{}", R"("hé")");
    db.put_with_key("named", "{}", R"([1,"a"])");
    seen.clear();
    db.get_all_keys_each("named", all, 0, [&](const flowdb::KeyView &k) {
        seen += std::to_string(int(k.kind)) + ":" + std::string(flowdb::key_text(k)) + ";";
    });
    CHECK(seen == "3:h\xc3\xa9;4:[1,\"a\"];");

    // A transaction's: its own writes seen, gone on abort (the destructor).
    {
        flowdb::Transaction t = db.transaction({"users"}, true);
        CHECK(t.add("users", R"({"age":50,"id":9})") == "9");
        CHECK(t.get_all_keys("users", all) == "[1,2,3,9]");
        t.delete_range("users", KeyRange::bound("1", "2"));
        CHECK(t.get_all_keys("users", all, 0) == "[3,9]");
        double sum = 0;
        CHECK(t.get_all_keys_each("users", all, 0, [&](const flowdb::KeyView &k) { sum += k.number; }) == 2 && sum == 12);
        CHECK(t.count_range("users", all) == 2);
        CHECK(t.get_key("users", all) == "3");
        CHECK(t.get_all_by_index("users", "age", KeyRange::lower_bound("40")) == R"([{"age":50,"id":9}])");
        CHECK(t.get_all_keys_by_index("users", "age", all, 1) == "[3]");
        CHECK(t.get_key_by_index("users", "age", KeyRange::only("50")) == "9");
        CHECK(t.get_all_records_by_index("users", "age", KeyRange::only("50")) == R"([{"key":50,"primary_key":9,"value":{"age":50,"id":9}}])");
        CHECK(t.get_all_records("users", all, 1) == R"([{"key":3,"primary_key":3,"value":)" + D3 + "}]");
        t.clear("users");
        CHECK(t.get_all("users", all) == "[]");
    }
    CHECK(db.count_range("users", all) == 3);

    // A cursor steps when the next entry is looked at: a loop that stops after two
    // steps (as std::views::take(2) does) leaves it on the second entry, which
    // update() and remove() act on; the next loop goes on from the third, unless
    // the cursor was moved meanwhile (the move replaces the loop's pending step).
    {
        flowdb::Transaction t = db.transaction({"users"}, true);
        flowdb::Cursor c = t.open_cursor("users", all);
        std::string got;
        {
            auto it = c.begin();
            for (int i = 0; i < 2 && it != c.end(); i++, ++it) got += it->key + "|";
        }
        CHECK(got == "1|2|" && c.key() == "2");
        CHECK(c.update(R"({"age":22,"id":2})") == "2");
        CHECK(keys_of(c) == "3|");
        flowdb::Cursor d = t.open_cursor("users", all);
        d.begin();  // begin() moves nothing
        {
            auto it = d.begin();
            ++it;
        }
        CHECK(d.key() == "1" && d.begin()->key == "2" && d.key() == "2");
        flowdb::Cursor m = t.open_cursor("users", all);
        {
            auto it = m.begin();
            ++it;
        }
        CHECK(m.continue_() && m.key() == "2" && keys_of(m) == "2|3|");
        m = t.open_cursor("users", all);
        for (const auto &e : m)
            if (e.key == "2") break;  // not stepped past: still on it
        CHECK(m.key() == "2");
        m.remove();
        CHECK(t.get_all_keys("users", all) == "[1,3]");
        // destroyed uncommitted: aborted
    }
    CHECK(db.get_all("users", all) == "[" + D1 + "," + D2 + "," + D3 + "]");

    // Cursors on a transaction: range-for, moves, writes.
    {
        flowdb::Transaction t = db.transaction({"users"}, true);
        flowdb::Cursor c = t.open_cursor("users", all);
        CHECK(c.key() == "1" && c.primary_key() == "1" && c.value() == D1);
        CHECK(c.value_view() == std::string_view(D1));  // lent, not NUL-terminated
        CHECK(keys_of(c) == "1|2|3|");
        CHECK(!c.value_view());  // past its end
        CHECK(!c.key() && !c.entry() && !c.continue_());  // past its end
        CHECK(code_of([&] { c.advance(1); }) == FLOWDB_INVALID_ARGUMENT);
        flowdb::Cursor prev = t.open_cursor("users", all, FLOWDB_PREV);
        CHECK(keys_of(prev) == "3|2|1|");
        flowdb::Cursor k = t.open_key_cursor("users", KeyRange::lower_bound("2"));
        CHECK(k.entry() && !k.entry()->value && k.entry()->primary_key == "2");
        CHECK(!k.value_view());  // a key cursor has no document
        CHECK(code_of([&] { k.remove(); }) == FLOWDB_INVALID_ARGUMENT);
        CHECK(code_of([&] { k.update(D2); }) == FLOWDB_INVALID_ARGUMENT);
        flowdb::Cursor idx = t.open_index_cursor("users", "age", all);
        CHECK(idx.key() == "20" && idx.primary_key() == "2");
        CHECK(idx.continue_primary_key("30", "3") && idx.primary_key() == "3");
        CHECK(code_of([&] { idx.continue_to("20"); }) == FLOWDB_DATA);
        CHECK(!idx.continue_());
        flowdb::Cursor ik = t.open_index_key_cursor("users", "age", all, FLOWDB_NEXT_UNIQUE);
        CHECK(keys_of(ik) == "20|30|");
        // *it++ and the iterator's value type.
        flowdb::Cursor w = t.open_cursor("users", all);
        auto it = w.begin();
        flowdb::CursorEntry first = *it++;
        CHECK(first.key == "1" && it->key == "2" && it != w.end());
        // Writes: update keeps the value read until the cursor moves; remove.
        CHECK(w.update(R"({"age":21,"id":2})") == "2");
        CHECK(w.value() == D2);
        CHECK(code_of([&] { w.update(R"({"age":21,"id":3})"); }) == FLOWDB_DATA);
        CHECK(w.continue_() && w.key() == "3");
        w.remove();
        CHECK(!w.continue_());
        flowdb::Cursor again = t.open_cursor("users", all);
        CHECK(again.advance(1) && again.value() == R"({"age":21,"id":2})" && !again.advance(1));
        t.commit();
        // Committed: the cursors of the transaction throw, and may still be destroyed.
        CHECK(code_of([&] { c.key(); }) == FLOWDB_TRANSACTION_INACTIVE);
        CHECK(code_of([&] { prev.continue_(); }) == FLOWDB_TRANSACTION_INACTIVE);
        t = flowdb::Transaction(nullptr);  // freed before its cursors
        CHECK(code_of([&] { idx.advance(1); }) == FLOWDB_TRANSACTION_INACTIVE);
        CHECK(code_of([&] { for (const auto &e : w) (void)e; }) == FLOWDB_TRANSACTION_INACTIVE);
    }
    CHECK(db.get_all_keys("users", all) == "[1,2]");

    // A cursor on the database: its own read-only transaction.
    {
        flowdb::Cursor c = db.open_cursor("users", std::nullopt, all, FLOWDB_PREV);
        CHECK(c.key() == "2");
        CHECK(code_of([&] { db.shutdown(); }) == FLOWDB_BUSY);
        CHECK(code_of([&] { c.remove(); }) == FLOWDB_READ_ONLY);
        std::vector<flowdb::CursorEntry> got;
        for (const auto &e : c) got.push_back(e);
        CHECK(got.size() == 2 && got[1].key == "1" && got[1].value == D1);
        flowdb::Cursor i = db.open_cursor("users", std::string("age"), KeyRange::only("21"), FLOWDB_NEXT, true);
        CHECK(i.key() == "21" && i.primary_key() == "2" && !i.value());
        CHECK(code_of([&] { db.open_cursor("users", std::string("nope"), all); }) == FLOWDB_NOT_FOUND);
    }
    db.clear("users");
    CHECK(db.count("users") == 0);
    CHECK(db.put_auto("users", R"({"age":1})") == "4");  // the key generator kept its next key
    db.delete_range("users", KeyRange::only("4"));
    CHECK(db.count("users") == 0);
    db.shutdown();
}

// Out-of-line keys and array key paths, schema versions with a lambda (an exception
// aborts the upgrade and reaches the caller), and the change feed.
static void versions_and_feed(const std::string &dir) {
    using namespace std::chrono_literals;
    flowdb::Options opts;
    opts.data_dir(dir).auto_background(false);
    int calls = 0;
    {
        flowdb::JsonDB db = flowdb::JsonDB::open_with_version(opts, 1, [&](flowdb::Upgrade &up, uint64_t old_version, uint64_t new_version) {
            calls++;
            CHECK(old_version == 0 && new_version == 1);
            up.create_object_store("notes", "[]");  // out-of-line keys
            up.create_index("notes", "by_a", {R"(["a"])"});  // an array key path: keys [1]
            up.create_store(R"({"name":"people","keyPath":"id"})");
            up.create_index("people", "by_name", {"name"});
            up.create_object_store("scratch", "id");
            up.delete_object_store("scratch");
            // Every Transaction request, on the new stores.
            CHECK(up.put_with_key("notes", R"({"a":1})", R"("n1")") == R"("n1")");
            CHECK(up.put("people", R"({"id":1,"name":"Ada"})") == "1");
            CHECK(up.get("notes", R"("n1")") == std::optional<std::string>(R"({"a":1})"));
            CHECK(up.get_all_keys("people", KeyRange::all()) == "[1]");
        });
        CHECK(calls == 1 && db.version() == 1);
        CHECK(db.get_by_index("notes", "by_a", "[1]") == R"([{"a":1}])");
        CHECK(db.get_store("notes")->find(R"("key_path":"[]")") != std::string::npos);

        // Out-of-line keys on the database and in a transaction.
        CHECK(db.put_with_key("notes", R"("text")", "2") == "2");
        CHECK(db.add_with_key("notes", R"({"a":3})", "3") == "3");
        CHECK(code_of([&] { db.add_with_key("notes", "{}", "3"); }) == FLOWDB_CONSTRAINT);
        CHECK(code_of([&] { db.put_with_key("people", R"({"id":9})", "9"); }) == FLOWDB_DATA);
        CHECK(code_of([&] { db.put("notes", R"({"a":4})"); }) == FLOWDB_DATA);
        {
            flowdb::Transaction t = db.transaction({"notes"}, true);
            CHECK(t.put_with_key("notes", R"({"a":4})", "4") == "4");
            CHECK(code_of([&] { t.add_with_key("notes", "{}", "4"); }) == FLOWDB_CONSTRAINT);
            CHECK(t.add_with_key("notes", R"({"a":5})", "5") == "5");
            t.commit();
        }
        CHECK(db.get_all_keys("notes", KeyRange::all()) == R"([2,3,4,5,"n1"])");

        // upgrade_to: renames and a migration; an exception aborts and is rethrown.
        db.upgrade_to(2, [&](flowdb::Upgrade &up, uint64_t old_version, uint64_t) {
            calls++;
            CHECK(old_version == 1);
            up.rename_store("people", "persons");
            up.rename_index("persons", "by_name", "name");
            up.put("persons", R"({"id":1,"name":"Ada","v":2})");
            up.create_index("persons", "by_v", {"v"}, true);
            up.delete_index("notes", "by_a");
            CHECK(code_of([&] { up.rename_store("persons", "notes"); }) == FLOWDB_CONSTRAINT);
        });
        CHECK(calls == 2 && db.version() == 2);
        CHECK(db.get_by_index("persons", "name", R"("Ada")") == R"([{"id":1,"name":"Ada","v":2}])");
        bool rethrown = false;
        try {
            db.upgrade_to(3, [&](flowdb::Upgrade &up, uint64_t, uint64_t) {
                up.create_object_store("temp", "id");
                up.put("persons", R"({"id":2,"name":"Bob","v":3})");
                throw std::runtime_error("migration failed");
            });
        } catch (const std::runtime_error &e) {
            rethrown = std::string(e.what()) == "migration failed";
        }
        CHECK(rethrown);
        // A flowdb::Error from a request, not caught by the lambda: rethrown as it was.
        auto duplicate_v = [&](flowdb::Upgrade &up, uint64_t, uint64_t) {
            up.create_index("persons", "by_v2", {"v"}, true);
            up.put("persons", R"({"id":3,"v":2})");  // throws: by_v is unique
        };
        CHECK(code_of([&] { db.upgrade_to(3, duplicate_v); }) == FLOWDB_CONSTRAINT);
        CHECK(db.version() == 2 && db.store_names() == R"(["notes","persons"])" && db.count("persons") == 1);
        CHECK(code_of([&] { db.upgrade_to(1, [&](flowdb::Upgrade &, uint64_t, uint64_t) { calls++; }); }) == FLOWDB_INVALID_ARGUMENT);
        db.upgrade_to(2, [&](flowdb::Upgrade &, uint64_t, uint64_t) { calls++; });  // the same version: not called
        CHECK(calls == 2);

        // The change feed.
        flowdb::Subscription all = db.subscribe({"notes", "persons"});
        flowdb::Subscription ranged = db.subscribe({"notes"}, KeyRange::bound("3", "4"));
        CHECK(all.start_seq() == db.last_change_seq());
        CHECK(!all.next());
        CHECK(!all.next(20ms));
        db.put_with_key("notes", R"({"a":6})", "3");
        db.remove("notes", "2");
        db.clear("persons");
        std::optional<flowdb::Change> c = all.next(5s);
        CHECK(c && c->store == "notes" && c->key == "3" && c->kind == flowdb::ChangeKind::put);
        uint64_t first = c ? c->seq : 0;
        c = all.next();
        CHECK(c && c->key == "2" && c->kind == flowdb::ChangeKind::remove && std::string(flowdb::to_string(c->kind)) == "delete");
        c = all.next();
        CHECK(c && c->store == "persons" && c->key == "null" && c->kind == flowdb::ChangeKind::clear && c->seq > first);
        CHECK(db.last_change_seq() == (c ? c->seq : 0));
        CHECK(!all.next());
        c = ranged.next();
        CHECK(c && c->key == "3");
        CHECK(!ranged.next());
        flowdb::Subscription since = db.subscribe_since(first - 1, {"persons"});
        c = since.next();
        CHECK(c && c->kind == flowdb::ChangeKind::clear);
        std::string log = db.changes_since(first - 1);
        CHECK(log.find(R"("store":"notes","key":3,"kind":"put")") != std::string::npos &&
              log.find(R"("store":"persons","key":null,"kind":"clear")") != std::string::npos);
        db.set_change_retention(std::chrono::hours(1));
        CHECK(code_of([&] { db.subscribe({"nope"}); }) == FLOWDB_NOT_FOUND);
        CHECK(code_of([&] { db.subscribe({}); }) == FLOWDB_INVALID_ARGUMENT);
        // A moved-from KeyRange is refused (in C, NULL would mean every key), as by
        // the other requests.
        flowdb::KeyRange moved = flowdb::KeyRange::only("1");
        flowdb::KeyRange taken = std::move(moved);
        CHECK(code_of([&] { db.subscribe({"notes"}, moved); }) == FLOWDB_INVALID_ARGUMENT);
        CHECK(code_of([&] { db.subscribe_since(first - 1, {"notes"}, moved); }) == FLOWDB_INVALID_ARGUMENT);
        CHECK(code_of([&] { db.get_all("notes", moved); }) == FLOWDB_INVALID_ARGUMENT);
        CHECK(code_of([&] { db.subscribe({"notes"}, taken); }) == FLOWDB_OK);
        db.shutdown();  // subscriptions do not hold the database
        CHECK(code_of([&] { all.next(1s); }) == FLOWDB_CLOSED);
        CHECK(code_of([&] { db.version(); }) == FLOWDB_CLOSED);
    }
    // Reopened at the stored version: no upgrade; below it: INVALID_ARGUMENT.
    flowdb::JsonDB db = flowdb::JsonDB::open_with_version(opts, 2, [&](flowdb::Upgrade &, uint64_t, uint64_t) { calls++; });
    CHECK(calls == 2 && db.version() == 2);
}

int main() {
    char base[] = "/tmp/flowdb-cpp-jsondb-XXXXXX";
    if (!mkdtemp(base)) return 2;
    flowdb::Options opts;
    opts.data_dir(std::string(base) + "/db").auto_background(false);
    {
        flowdb::JsonDB db = flowdb::JsonDB::open(opts);
        db.create_store(R"({"name":"users","keyPath":"id","autoIncrement":true,"indexes":[{"name":"email","keyPath":"email","unique":true}]})");
        db.create_index("users", "age", {"age"});
        db.create_object_store("plain", "k");
        CHECK(db.store_names() == R"(["plain","users"])");
        // IndexedDB's name order (UTF-16: U+10000 before U+FF61); no store, no transaction.
        db.create_object_store("\xef\xbd\xa1", "k");
        db.create_object_store("\xf0\x90\x80\x80", "k");
        CHECK(db.store_names() == "[\"plain\",\"users\",\"\xf0\x90\x80\x80\",\"\xef\xbd\xa1\"]");
        db.delete_object_store("\xef\xbd\xa1");
        db.delete_object_store("\xf0\x90\x80\x80");
        CHECK(code_of([&] { db.transaction({}, false); }) == FLOWDB_INVALID_ARGUMENT);
        CHECK(db.get_store("users").has_value() && !db.get_store("nope").has_value());
        CHECK(db.put_auto("users", R"({"email":"a@x","age":41})") == "1");
        CHECK(db.put("users", R"({"id":5,"email":"b@x","age":30})") == "5");
        CHECK(code_of([&] { db.put("users", R"({"id":6,"email":"a@x"})"); }) == FLOWDB_CONSTRAINT);
        CHECK(code_of([&] { db.put("users", "{oops"); }) == FLOWDB_INVALID_ARGUMENT);
        CHECK(db.get("users", "5")->find("b@x") != std::string::npos);
        CHECK(!db.get("users", "6"));
        CHECK(db.count("users") == 2);
        CHECK(db.get_by_index("users", "email", R"("a@x")").find("\"id\":1") != std::string::npos);
        std::string by_age = db.range_by_index("users", "age", "0", "100");
        CHECK(by_age.find("b@x") < by_age.find("a@x"));
        std::string prev = db.index_query("users", "age", flowdb::KeyRange::all(), FLOWDB_PREV);
        CHECK(prev.find("a@x") < prev.find("b@x"));
        CHECK(code_of([&] { flowdb::KeyRange::bound("5", "1"); }) == FLOWDB_DATA);
        std::string q = db.query("users").where_range("age", "18", "99").order_by("age", true).limit(1).collect(db);
        CHECK(q.find("a@x") != std::string::npos && q.find("b@x") == std::string::npos);
        CHECK(read_everything(db) > 0);
        CHECK(db.count_by_index("users", "age", flowdb::KeyRange::bound("18", "99")) == 2);
        CHECK(db.count_by_index("users", "age", flowdb::KeyRange::lower_bound("40")) == 1);
        std::string desc = db.get_range("users", flowdb::KeyRange::all(), FLOWDB_PREV);
        CHECK(desc.find("b@x") < desc.find("a@x"));
        const flowdb::Query by_email = std::move(db.query("users").where_eq("email", R"("b@x")"));
        CHECK(by_email.collect(db) == by_email.collect(db) && by_email.collect(db).find("\"id\":5") != std::string::npos);
        {
            // A chain on a temporary bound to a reference: the reference owns the query.
            const auto &q5 = db.query("users").where_eq("email", R"("b@x")").limit(1);
            CHECK(q5.collect(db).find("\"id\":5") != std::string::npos);
            flowdb::Query named("users");
            flowdb::Query &same = named.where_in("age", "[30]").order_by("age");  // named: a reference
            CHECK(&same == &named && named.collect(db).find("\"id\":5") != std::string::npos);
        }
        {
            // Names handed to C as NUL-terminated strings: one holding a NUL byte is
            // refused (FLOWDB_INVALID_ARGUMENT naming it), not cut short at the NUL.
            const std::string users("users\0evil", 10), age("age\0x", 5);
            const size_t before = db.count("users");
            CHECK(refused_nul([&] { db.put(users, R"({"id":40})"); }, "store"));
            CHECK(refused_nul([&] { db.put_auto(users, R"({"id":40})"); }, "store"));
            CHECK(refused_nul([&] { db.add(users, R"({"id":40})"); }, "store"));
            CHECK(db.count("users") == before && !db.get("users", "40"));
            CHECK(refused_nul([&] { db.count(users); }, "store"));
            CHECK(refused_nul([&] { db.get_all(users, flowdb::KeyRange::all()); }, "store"));
            CHECK(refused_nul([&] { db.get_by_index("users", age, "30"); }, "index"));
            CHECK(refused_nul([&] { db.open_cursor("users", age, flowdb::KeyRange::all()); }, "index"));
            CHECK(refused_nul([&] { db.query(users); }, "store"));
            CHECK(refused_nul([&] { db.query("users").where_eq(age, "30"); }, "field"));
            CHECK(refused_nul([&] { db.transaction({"users", users}, false); }, "stores"));
            CHECK(refused_nul([&] { db.subscribe({users}); }, "stores"));
            CHECK(refused_nul([&] { db.create_object_store(users, "id"); }, "name"));
            CHECK(refused_nul([&] { db.create_object_store("s2", std::string("id\0x", 4)); }, "key_path"));
            CHECK(refused_nul([&] { db.create_index("users", age, {"age"}); }, "name"));
            CHECK(refused_nul([&] { db.create_index("users", "age2", {age}); }, "key_paths"));
            CHECK(refused_nul([&] { db.checkpoint(std::string(base) + "/cp" + std::string("\0x", 2)); }, "dest"));
            CHECK(db.store_names() == R"(["plain","users"])" && db.count_by_index("users", "age", flowdb::KeyRange::all()) == 2);
            flowdb::Transaction t = db.transaction({"users"}, true);
            CHECK(refused_nul([&] { t.put(users, R"({"id":40})"); }, "store"));
            CHECK(refused_nul([&] { t.get_by_index("users", age, "30"); }, "index"));
            CHECK(refused_nul([&] { t.open_index_cursor("users", age, flowdb::KeyRange::all()); }, "index"));
        }
        {
            flowdb::Transaction t = db.transaction({"users"}, true);
            t.put("users", R"({"id":7,"email":"c@x"})");
            CHECK(t.get("users", "7").has_value());
            CHECK(t.count("users") == 3);
            // destroyed uncommitted: aborted
        }
        CHECK(!db.get("users", "7"));
        flowdb::Transaction t = db.transaction({"users"}, true);
        t.put("users", R"({"id":8,"email":"d@x"})");
        t.remove("users", "5");
        t.commit();
        CHECK(code_of([&] { t.put("users", R"({"id":9})"); }) == FLOWDB_TRANSACTION_INACTIVE);
        CHECK(db.count("users") == 2 && db.get("users", "8"));
        flowdb::Transaction ro = db.transaction({"users"}, false);
        {
            // The reads of a transaction are const.
            const flowdb::Transaction &view = ro;
            CHECK(view.get("users", "8") && view.count("users") == 2);
            CHECK(view.scan("users").find("\"id\":8") != std::string::npos);
        }
        CHECK(code_of([&] { ro.put("users", R"({"id":9})"); }) == FLOWDB_READ_ONLY);
        CHECK(code_of([&] { db.shutdown(); }) == FLOWDB_BUSY);  // transactions are open
        flowdb::Status st = flowdb::attempt([&] { db.put("nope", "{}"); });
        CHECK(!st.ok() && st.code == FLOWDB_NOT_FOUND && st.message.find("nope") != std::string::npos);
        CHECK(flowdb::attempt([&] { db.engine_flush(); }).ok());
        // Another exception keeps its message.
        st = flowdb::attempt([] { throw std::runtime_error("from the caller"); });
        CHECK(!st.ok() && st.code == FLOWDB_INTERNAL && st.message == "from the caller");
        CHECK(db.engine_stats().total_flushes >= 1);
        CHECK(db.engine_metrics_text().find("flowdb_flushes_total") != std::string::npos);
        ro = flowdb::Transaction(nullptr);  // freed: the database may shut down
        t = flowdb::Transaction(nullptr);
        db.sync();  // flush + sync: stays open
        db.put("plain", R"({"k":"after sync"})");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        db.close();  // the deprecated name of sync(): still open after it
#pragma GCC diagnostic pop
        CHECK(db.get("plain", R"("after sync")").has_value());
        db.shutdown();
        CHECK(code_of([&] { db.sync(); }) == FLOWDB_CLOSED);
    }
    {
        // A JsonDB labelled through its options: every sample of its engine's metrics.
        flowdb::Options o;
        o.data_dir(std::string(base) + "/labelled").auto_background(false).metrics_label("db", "docs \"1\"");
        const flowdb::JsonDB db = flowdb::JsonDB::open(o);
        std::string text = db.engine_metrics_text();
        size_t samples = 0, labelled = 0;
        for (size_t at = 0; at < text.size();) {
            size_t end = std::min(text.find('\n', at), text.size());
            std::string line = text.substr(at, end - at);
            at = end + 1;
            if (line.empty() || line[0] == '#') continue;
            samples++;
            labelled += line.find("{db=\"docs \\\"1\\\"\"") != std::string::npos;
        }
        CHECK(samples > 30 && labelled == samples);
        o.metrics_label("db", "again");  // "db" twice
        o.data_dir(std::string(base) + "/labelled-2");
        CHECK(code_of([&] { flowdb::JsonDB::open(o); }) == FLOWDB_INVALID_ARGUMENT);
    }
    ranges_and_cursors(std::string(base) + "/cursors");
    versions_and_feed(std::string(base) + "/versions");
    std::string cmd = std::string("rm -rf '") + base + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", base);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
