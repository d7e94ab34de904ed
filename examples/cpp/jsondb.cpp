// flowdb JsonDB C++ quickstart: a store with indexes, documents in a transaction, an
// index lookup, a query and keys read typed. Usage: flowdb_jsondb_cpp [DATA_DIR]  (default ./data-docs-cpp)
#include "flowdb.hpp"

#include <cstdio>

int main(int argc, char **argv) {
    try {
        flowdb::Options opts;
        opts.data_dir(argc > 1 ? argv[1] : "./data-docs-cpp");
        flowdb::JsonDB db = flowdb::JsonDB::open(opts);
        if (!db.get_store("users"))
            db.create_store(R"({"name":"users","keyPath":"id","autoIncrement":true,
                "indexes":[{"name":"email","keyPath":"email","unique":true},{"name":"city_age","keyPath":["city","age"]}]})");
        {
            flowdb::Transaction t = db.transaction({"users"}, true);
            for (const char *doc : {R"({"email":"ada@example.com","age":36,"city":"London"})",
                                    R"({"email":"linus@example.com","age":28,"city":"Helsinki"})",
                                    R"({"email":"grace@example.com","age":45,"city":"London"})"}) {
                try {
                    t.put_auto("users", doc);
                } catch (const flowdb::Error &e) {
                    if (e.code() != FLOWDB_CONSTRAINT) throw;  // already stored by an earlier run
                }
            }
            t.commit();
        }
        std::printf("by email: %s\n", db.get_by_index("users", "email", R"("grace@example.com")").c_str());
        std::printf("London by age: %s\n", db.query("users").where_eq("city", R"("London")").order_by("age").collect(db).c_str());
        // The ids of the London users from the compound index, as numbers (no JSON).
        std::printf("London ids:");
        db.get_all_keys_by_index_each("users", "city_age", flowdb::KeyRange::bound(R"(["London"])", R"(["London",[]])"), 0,
                                      [](const flowdb::KeyView &k) { std::printf(" %g", k.number); });
        std::printf("\n");
        std::printf("%zu users\n", db.count("users"));
        db.shutdown();
    } catch (const flowdb::Error &e) {
        std::fprintf(stderr, "flowdb error: %s\n", e.what());
        return 1;
    }
    return 0;
}
