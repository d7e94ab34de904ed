// C++ JsonDB wrapper tests: schema, CRUD, index queries, key ranges, the query
// builder, transactions (commit, abort on destruction), error codes as exceptions.
#include "flowdb.hpp"

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
    }
    std::string cmd = std::string("rm -rf '") + base + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", base);
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
