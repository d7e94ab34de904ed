// C++ JsonDB wrapper tests: schema, CRUD, index queries, key ranges, the query
// builder, transactions (commit, abort on destruction), error codes as exceptions,
// every read through a const JsonDB, sync and the deprecated close, metrics labels.
#include "flowdb.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

static int failures = 0, checks = 0;
#define CHECK(c)                                                                          \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(c)) { failures++; std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } \
    } while (0)

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
    return n;
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
        CHECK(code_of([&] { ro.put("users", R"({"id":9})"); }) == FLOWDB_READ_ONLY);
        CHECK(code_of([&] { db.shutdown(); }) == FLOWDB_BUSY);  // transactions are open
        flowdb::Status st = flowdb::attempt([&] { db.put("nope", "{}"); });
        CHECK(!st.ok() && st.code == FLOWDB_NOT_FOUND && st.message.find("nope") != std::string::npos);
        CHECK(flowdb::attempt([&] { db.engine_flush(); }).ok());
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
    std::string cmd = std::string("rm -rf '") + base + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", base);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
