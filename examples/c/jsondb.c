/* flowdb JsonDB C quickstart: a store with indexes, documents, an index lookup, a
 * query, a transaction, and keys read typed. Usage: flowdb_jsondb_c [DATA_DIR]  (default ./data-docs) */
#include "flowdb.h"

#include <stdio.h>
#include <string.h>

#define J(s) s, strlen(s)

static int fail(flowdb_status_t st, flowdb_error_t *err, const char *what) {
    if (st == FLOWDB_OK) return 0;
    fprintf(stderr, "%s: %s: %s\n", what, flowdb_status_str(st), flowdb_error_message(err));
    flowdb_error_free(err);
    return 1;
}

/* Each key of a key visit, typed and lent for the call: here the ids, numbers. */
static bool print_id(const flowdb_key_view_t *key, void *user) {
    (void)user;
    if (key->kind == FLOWDB_KEY_NUMBER) printf(" %g", key->number);
    return true; /* false would stop the visit */
}

int main(int argc, char **argv) {
    flowdb_options_t *o = flowdb_options_new();
    flowdb_options_set_data_dir(o, argc > 1 ? argv[1] : "./data-docs", NULL);
    flowdb_jsondb_t *db = NULL;
    flowdb_error_t *err = NULL;
    if (fail(flowdb_jsondb_open(o, &db, &err), err, "open")) return 1;
    flowdb_options_free(o);

    const char *schema = "{\"name\":\"users\",\"keyPath\":\"id\",\"autoIncrement\":true,\"indexes\":["
                         "{\"name\":\"email\",\"keyPath\":\"email\",\"unique\":true},"
                         "{\"name\":\"city_age\",\"keyPath\":[\"city\",\"age\"]}]}";
    flowdb_status_t st = flowdb_jsondb_create_store(db, J(schema), &err);
    if (st == FLOWDB_CONSTRAINT) { flowdb_error_free(err); err = NULL; } /* exists from an earlier run */
    else if (fail(st, err, "create_store")) return 1;

    const char *docs[3] = {"{\"email\":\"ada@example.com\",\"age\":36,\"city\":\"London\"}",
                           "{\"email\":\"linus@example.com\",\"age\":28,\"city\":\"Helsinki\"}",
                           "{\"email\":\"grace@example.com\",\"age\":45,\"city\":\"London\"}"};
    const char *scope[1] = {"users"};
    flowdb_txn_t *t = NULL;
    if (fail(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, &err), err, "transaction")) return 1;
    for (int i = 0; i < 3; i++) {
        st = flowdb_txn_put_auto(t, "users", J(docs[i]), NULL, &err);
        if (st == FLOWDB_CONSTRAINT) { flowdb_error_free(err); err = NULL; continue; } /* email already stored */
        if (fail(st, err, "put")) return 1;
    }
    if (fail(flowdb_txn_commit(t, &err), err, "commit")) return 1;
    flowdb_txn_free(t);

    char *out = NULL;
    if (fail(flowdb_jsondb_get_by_index(db, "users", "email", J("\"grace@example.com\""), &out, &err), err, "get_by_index")) return 1;
    printf("by email: %s\n", out);
    flowdb_string_free(out);

    flowdb_query_t *q = flowdb_query_new("users");
    flowdb_query_where_eq(q, "city", J("\"London\""), NULL);
    flowdb_query_order_by(q, "age", false, NULL);
    if (fail(flowdb_query_collect(db, q, &out, &err), err, "query")) return 1;
    printf("London by age: %s\n", out);
    flowdb_string_free(out);
    flowdb_query_free(q);

    /* The ids of the London users, from the compound index, as numbers (no JSON). */
    flowdb_key_range_t *london = NULL;
    if (fail(flowdb_key_range_bound(J("[\"London\"]"), J("[\"London\",[]]"), false, false, &london, &err), err, "range"))
        return 1;
    printf("London ids:");
    uint64_t handed = 0;
    st = flowdb_jsondb_get_all_keys_visit(db, "users", "city_age", london, 0, print_id, NULL, &handed, &err);
    flowdb_key_range_free(london);
    if (fail(st, err, "get_all_keys_visit")) return 1;
    printf(" (%llu)\n", (unsigned long long)handed);

    size_t n = 0;
    flowdb_jsondb_count(db, "users", &n, NULL);
    printf("%zu users\n", n);
    if (fail(flowdb_jsondb_shutdown(db, &err), err, "shutdown")) return 1;
    flowdb_jsondb_free(db);
    return 0;
}
