/* C tests of the JsonDB key-range reads and writes, on the database and in
 * transactions: add (insert only), delete_range, clear (the key generator kept),
 * get_all / get_all_keys / get_all_records / get_key / count_range and their index
 * forms, with counts (0: all), ranges and directions; read-your-writes, aborts,
 * read-only and finished transactions, and error paths. Built with -Wall -Wextra
 * -Werror; run by ctest. */
#define _DEFAULT_SOURCE
#include "check.h"

/* Key ranges from JSON bounds. */
static flowdb_key_range_t *bound(const char *lower, const char *upper) {
    flowdb_key_range_t *r = NULL;
    OK(flowdb_key_range_bound(J(lower), J(upper), false, false, &r, NULL));
    return r;
}
static flowdb_key_range_t *only(const char *key) {
    flowdb_key_range_t *r = NULL;
    OK(flowdb_key_range_only(J(key), &r, NULL));
    return r;
}

#define D1 "{\"age\":30,\"id\":1,\"tags\":[\"a\",\"b\"]}"
#define D2 "{\"age\":20,\"id\":2,\"tags\":[\"b\"]}"
#define D3 "{\"age\":30,\"id\":3}"
#define D4 "{\"age\":40,\"id\":4,\"tags\":[\"c\"]}"
#define D5 "{\"age\":50,\"id\":5}"

static void fill(flowdb_jsondb_t *db) {
    const char *docs[] = {D1, D2, D3, D4};
    for (int i = 0; i < 4; i++) OK(flowdb_jsondb_put(db, "users", J(docs[i]), NULL, NULL));
}

static void database_reads(flowdb_jsondb_t *db) {
    flowdb_key_range_t *all = flowdb_key_range_all();
    char *s = NULL;
    size_t n = 0;

    /* add: insert only. */
    OK(flowdb_jsondb_add(db, "users", J(D5), &s, NULL));
    CHECK(eq_free(s, "5"));
    flowdb_error_t *err = NULL;
    s = NULL;
    CHECK(flowdb_jsondb_add(db, "users", J("{\"age\":99,\"id\":1}"), &s, &err) == FLOWDB_CONSTRAINT);
    CHECK(err && strstr(flowdb_error_message(err), "already holds") != NULL);
    flowdb_error_free(err);
    CHECK(s == NULL);
    OK(flowdb_jsondb_get(db, "users", J("1"), &s, NULL));
    CHECK(eq_free(s, D1)); /* unchanged */
    OK(flowdb_jsondb_add(db, "users", J("{\"id\":6}"), NULL, NULL)); /* key_out may be NULL */
    OK(flowdb_jsondb_delete(db, "users", J("6"), NULL));
    CHECK(flowdb_jsondb_add(db, "nope", J("{\"id\":1}"), NULL, NULL) == FLOWDB_NOT_FOUND);

    /* get_all: count 0 is all; a count; a range. */
    OK(flowdb_jsondb_get_all(db, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[" D1 "," D2 "," D3 "," D4 "," D5 "]"));
    OK(flowdb_jsondb_get_all(db, "users", all, 2, &s, NULL));
    CHECK(eq_free(s, "[" D1 "," D2 "]"));
    flowdb_key_range_t *r = bound("3", "4");
    OK(flowdb_jsondb_get_all(db, "users", r, 0, &s, NULL));
    CHECK(eq_free(s, "[" D3 "," D4 "]"));
    OK(flowdb_jsondb_count_range(db, "users", r, &n, NULL));
    CHECK(n == 2);
    flowdb_key_range_free(r);
    r = only("9");
    OK(flowdb_jsondb_get_all(db, "users", r, 0, &s, NULL));
    CHECK(eq_free(s, "[]"));
    s = (char *)"untouched";
    OK(flowdb_jsondb_get_key(db, "users", r, &s, NULL));
    CHECK(s == NULL); /* no key in the range */
    OK(flowdb_jsondb_count_range(db, "users", r, &n, NULL));
    CHECK(n == 0);
    flowdb_key_range_free(r);

    /* Keys, records, the first key. */
    OK(flowdb_jsondb_get_all_keys(db, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[1,2,3,4,5]"));
    OK(flowdb_jsondb_get_all_keys(db, "users", all, 3, &s, NULL));
    CHECK(eq_free(s, "[1,2,3]"));
    OK(flowdb_jsondb_get_all_records(db, "users", all, 2, FLOWDB_PREV, &s, NULL));
    CHECK(eq_free(s, "[{\"key\":5,\"primary_key\":5,\"value\":" D5 "},{\"key\":4,\"primary_key\":4,\"value\":" D4 "}]"));
    OK(flowdb_jsondb_get_all_records(db, "users", all, 1, FLOWDB_NEXT, &s, NULL));
    CHECK(eq_free(s, "[{\"key\":1,\"primary_key\":1,\"value\":" D1 "}]"));
    r = NULL;
    OK(flowdb_key_range_lower_bound(J("2"), true, &r, NULL));
    OK(flowdb_jsondb_get_key(db, "users", r, &s, NULL));
    CHECK(eq_free(s, "3"));
    flowdb_key_range_free(r);
    OK(flowdb_jsondb_count_range(db, "users", all, &n, NULL));
    CHECK(n == 5);

    /* Index forms: (index key, primary key) order; a multi-entry index lists a document
     * once per entry; unique directions keep the lowest primary key of each key. */
    r = bound("25", "45");
    OK(flowdb_jsondb_get_all_by_index(db, "users", "age", r, 0, &s, NULL));
    CHECK(eq_free(s, "[" D1 "," D3 "," D4 "]"));
    OK(flowdb_jsondb_get_all_by_index(db, "users", "age", r, 1, &s, NULL));
    CHECK(eq_free(s, "[" D1 "]"));
    OK(flowdb_jsondb_get_all_keys_by_index(db, "users", "age", r, 0, &s, NULL));
    CHECK(eq_free(s, "[1,3,4]"));
    OK(flowdb_jsondb_get_key_by_index(db, "users", "age", r, &s, NULL));
    CHECK(eq_free(s, "1"));
    flowdb_key_range_free(r);
    OK(flowdb_jsondb_get_all_keys_by_index(db, "users", "tags", all, 0, &s, NULL));
    CHECK(eq_free(s, "[1,1,2,4]")); /* a: 1; b: 1, 2; c: 4 */
    OK(flowdb_jsondb_get_all_by_index(db, "users", "tags", all, 0, &s, NULL));
    CHECK(eq_free(s, "[" D1 "," D1 "," D2 "," D4 "]"));
    OK(flowdb_jsondb_get_all_records_by_index(db, "users", "tags", all, 0, FLOWDB_NEXT_UNIQUE, &s, NULL));
    CHECK(eq_free(s, "[{\"key\":\"a\",\"primary_key\":1,\"value\":" D1 "},{\"key\":\"b\",\"primary_key\":1,\"value\":" D1
                     "},{\"key\":\"c\",\"primary_key\":4,\"value\":" D4 "}]"));
    OK(flowdb_jsondb_get_all_records_by_index(db, "users", "tags", all, 2, FLOWDB_PREV_UNIQUE, &s, NULL));
    CHECK(eq_free(s, "[{\"key\":\"c\",\"primary_key\":4,\"value\":" D4 "},{\"key\":\"b\",\"primary_key\":1,\"value\":" D1 "}]"));
    OK(flowdb_jsondb_get_all_records_by_index(db, "users", "tags", all, 1, FLOWDB_PREV, &s, NULL));
    CHECK(eq_free(s, "[{\"key\":\"c\",\"primary_key\":4,\"value\":" D4 "}]"));
    r = only("\"z\"");
    s = (char *)"untouched";
    OK(flowdb_jsondb_get_key_by_index(db, "users", "tags", r, &s, NULL));
    CHECK(s == NULL);
    flowdb_key_range_free(r);

    /* Errors, with no output written. */
    s = NULL;
    CHECK(flowdb_jsondb_get_all(db, "nope", all, 0, &s, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_get_all_by_index(db, "users", "nope", all, 0, &s, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_get_all_records(db, "users", all, 0, 7, &s, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_get_all_keys(db, "users", NULL, 0, &s, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_get_key_by_index(db, "users", NULL, all, &s, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_get_all(db, "users", all, 0, NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(s == NULL);
    n = 77;
    CHECK(flowdb_jsondb_count_range(db, "nope", all, &n, NULL) == FLOWDB_NOT_FOUND);
    CHECK(n == 77);

    /* delete_range, then clear; the key generator keeps its next key. */
    r = bound("2", "3");
    OK(flowdb_jsondb_delete_range(db, "users", r, NULL));
    flowdb_key_range_free(r);
    OK(flowdb_jsondb_get_all_keys(db, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[1,4,5]"));
    OK(flowdb_jsondb_get_all_keys_by_index(db, "users", "tags", all, 0, &s, NULL));
    CHECK(eq_free(s, "[1,1,4]")); /* the index entries went with them */
    OK(flowdb_jsondb_clear(db, "users", NULL));
    OK(flowdb_jsondb_count(db, "users", &n, NULL));
    CHECK(n == 0);
    OK(flowdb_jsondb_get_all_by_index(db, "users", "age", all, 0, &s, NULL));
    CHECK(eq_free(s, "[]"));
    CHECK(flowdb_jsondb_clear(db, "nope", NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_delete_range(db, "users", NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_jsondb_put_auto(db, "auto", J("{\"x\":1}"), &s, NULL));
    CHECK(eq_free(s, "1"));
    OK(flowdb_jsondb_put_auto(db, "auto", J("{\"x\":2}"), &s, NULL));
    CHECK(eq_free(s, "2"));
    OK(flowdb_jsondb_clear(db, "auto", NULL));
    OK(flowdb_jsondb_put_auto(db, "auto", J("{\"x\":3}"), &s, NULL));
    CHECK(eq_free(s, "3"));
    flowdb_key_range_free(all);
}

static void transaction_reads(flowdb_jsondb_t *db) {
    fill(db);
    flowdb_key_range_t *all = flowdb_key_range_all();
    const char *scope[1] = {"users"};
    flowdb_txn_t *t = NULL;
    char *s = NULL;
    size_t n = 0;

    /* Read-your-writes: add, then every read sees it; an add of a key the transaction
     * wrote is a CONSTRAINT too. Aborted: nothing of it stays. */
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    OK(flowdb_txn_add(t, "users", J(D5), &s, NULL));
    CHECK(eq_free(s, "5"));
    CHECK(flowdb_txn_add(t, "users", J("{\"id\":5}"), NULL, NULL) == FLOWDB_CONSTRAINT);
    OK(flowdb_txn_get_all(t, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[" D1 "," D2 "," D3 "," D4 "," D5 "]"));
    OK(flowdb_txn_get_all_keys(t, "users", all, 2, &s, NULL));
    CHECK(eq_free(s, "[1,2]"));
    OK(flowdb_txn_get_all_records(t, "users", all, 1, FLOWDB_PREV, &s, NULL));
    CHECK(eq_free(s, "[{\"key\":5,\"primary_key\":5,\"value\":" D5 "}]"));
    flowdb_key_range_t *r = bound("45", "60");
    OK(flowdb_txn_get_all_by_index(t, "users", "age", r, 0, &s, NULL));
    CHECK(eq_free(s, "[" D5 "]"));
    OK(flowdb_txn_get_all_keys_by_index(t, "users", "age", r, 0, &s, NULL));
    CHECK(eq_free(s, "[5]"));
    OK(flowdb_txn_get_all_records_by_index(t, "users", "age", r, 0, FLOWDB_NEXT, &s, NULL));
    CHECK(eq_free(s, "[{\"key\":50,\"primary_key\":5,\"value\":" D5 "}]"));
    OK(flowdb_txn_get_key_by_index(t, "users", "age", r, &s, NULL));
    CHECK(eq_free(s, "5"));
    flowdb_key_range_free(r);
    r = bound("4", "9");
    OK(flowdb_txn_get_key(t, "users", r, &s, NULL));
    CHECK(eq_free(s, "4"));
    OK(flowdb_txn_count_range(t, "users", r, &n, NULL));
    CHECK(n == 2);
    /* delete_range and clear in the transaction: its reads see them at once. */
    OK(flowdb_txn_delete_range(t, "users", r, NULL));
    flowdb_key_range_free(r);
    OK(flowdb_txn_get_all_keys(t, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[1,2,3]"));
    OK(flowdb_txn_clear(t, "users", NULL));
    OK(flowdb_txn_count_range(t, "users", all, &n, NULL));
    CHECK(n == 0);
    OK(flowdb_txn_get_all_by_index(t, "users", "tags", all, 0, &s, NULL));
    CHECK(eq_free(s, "[]"));
    OK(flowdb_txn_add(t, "users", J(D2), NULL, NULL)); /* after a clear, a new document */
    OK(flowdb_txn_get_all(t, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[" D2 "]"));
    CHECK(flowdb_txn_get_all(t, "auto", all, 0, &s, NULL) == FLOWDB_NOT_FOUND); /* outside the scope */
    OK(flowdb_txn_abort(t, NULL));
    CHECK(flowdb_txn_get_all(t, "users", all, 0, &s, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_txn_add(t, "users", J(D5), NULL, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_txn_count_range(t, "users", all, &n, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    flowdb_txn_free(t);
    OK(flowdb_jsondb_get_all_keys(db, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[1,2,3,4]"));

    /* Committed: the clear and the add land together. */
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    OK(flowdb_txn_clear(t, "users", NULL));
    OK(flowdb_txn_add(t, "users", J(D3), NULL, NULL));
    OK(flowdb_txn_commit(t, NULL));
    CHECK(flowdb_txn_clear(t, "users", NULL) == FLOWDB_TRANSACTION_INACTIVE);
    flowdb_txn_free(t);
    OK(flowdb_jsondb_get_all(db, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[" D3 "]"));

    /* A read-only transaction reads, and writes nothing. */
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_ONLY_TXN, &t, NULL));
    OK(flowdb_txn_get_all_keys(t, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[3]"));
    CHECK(flowdb_txn_add(t, "users", J(D1), NULL, NULL) == FLOWDB_READ_ONLY);
    CHECK(flowdb_txn_delete_range(t, "users", all, NULL) == FLOWDB_READ_ONLY);
    CHECK(flowdb_txn_clear(t, "users", NULL) == FLOWDB_READ_ONLY);
    s = NULL;
    CHECK(flowdb_txn_get_all_records(t, "users", all, 0, 9, &s, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_txn_get_key(NULL, "users", all, &s, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(s == NULL);
    flowdb_txn_free(t);
    flowdb_key_range_free(all);
}

int main(void) {
    char base[] = "/tmp/flowdb-c-getall-XXXXXX";
    flowdb_options_t *o = NULL;
    flowdb_jsondb_t *db = open_db(base, &o);
    if (!db) return 2;
    const char *schema = "{\"name\":\"users\",\"keyPath\":\"id\",\"indexes\":["
                         "{\"name\":\"age\",\"keyPath\":\"age\"},"
                         "{\"name\":\"tags\",\"keyPath\":\"tags\",\"multiEntry\":true}]}";
    OK(flowdb_jsondb_create_store(db, J(schema), NULL));
    OK(flowdb_jsondb_create_store(db, J("{\"name\":\"auto\",\"keyPath\":\"id\",\"autoIncrement\":true}"), NULL));
    fill(db);
    database_reads(db);
    transaction_reads(db);
    OK(flowdb_jsondb_shutdown(db, NULL));
    flowdb_jsondb_free(db);
    flowdb_options_free(o);
    return finish(base);
}
