/* C tests of the JsonDB API: schema calls, CRUD, counts, scans, index queries with key
 * ranges and directions, the query builder, transactions, and error paths (NULL
 * arguments, bad UTF-8, bad JSON, unknown store, closed handle, inactive and
 * read-only transactions). Built with -Wall -Wextra -Werror; run by ctest. */
#define _DEFAULT_SOURCE
#include "check.h"

int main(void) {
    char base[] = "/tmp/flowdb-c-jsondb-XXXXXX";
    flowdb_options_t *o = NULL;
    flowdb_jsondb_t *db = open_db(base, &o);
    if (!db) return 2;

    /* Schema. */
    const char *schema = "{\"name\":\"users\",\"keyPath\":\"id\",\"autoIncrement\":true,\"indexes\":["
                         "{\"name\":\"email\",\"keyPath\":\"email\",\"unique\":true},"
                         "{\"name\":\"city_age\",\"keyPath\":[\"city\",\"age\"]},"
                         "{\"name\":\"tags\",\"keyPath\":\"tags\",\"multiEntry\":true}]}";
    OK(flowdb_jsondb_create_store(db, J(schema), NULL));
    CHECK(flowdb_jsondb_create_store(db, J("{\"name\":1}"), NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_create_store(db, J("{not json"), NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_jsondb_create_store(db, J(schema), NULL)); /* the same again: a no-op */
    flowdb_error_t *dup = NULL;
    CHECK(flowdb_jsondb_create_store(db, J("{\"name\":\"users\",\"keyPath\":\"uid\"}"), &dup) == FLOWDB_CONSTRAINT);
    CHECK(dup && strstr(flowdb_error_message(dup), "different key path") != NULL);
    flowdb_error_free(dup);
    OK(flowdb_jsondb_create_object_store(db, "plain", "k", NULL));
    CHECK(flowdb_jsondb_create_object_store(db, "bad", "3m", NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_jsondb_create_index_on(db, "users", "age", "age", false, NULL));
    const char *paths[1] = {"x"};
    OK(flowdb_jsondb_create_index(db, "plain", "by_x", paths, 1, false, NULL));
    OK(flowdb_jsondb_create_index_with(db, "plain", "multi_x", paths, 1, false, true, NULL));
    OK(flowdb_jsondb_delete_index(db, "plain", "multi_x", NULL));
    CHECK(flowdb_jsondb_delete_index(db, "plain", "nope", NULL) == FLOWDB_NOT_FOUND);
    char *s = NULL;
    OK(flowdb_jsondb_store_names(db, &s, NULL));
    CHECK(eq_free(s, "[\"plain\",\"users\"]"));
    /* Names in UTF-16 order (IndexedDB's): U+10000 before U+FF61, though its UTF-8
       bytes are larger; a transaction over no store is refused. */
    OK(flowdb_jsondb_create_object_store(db, "\xef\xbd\xa1", "k", NULL));
    OK(flowdb_jsondb_create_object_store(db, "\xf0\x90\x80\x80", "k", NULL));
    OK(flowdb_jsondb_store_names(db, &s, NULL));
    CHECK(eq_free(s, "[\"plain\",\"users\",\"\xf0\x90\x80\x80\",\"\xef\xbd\xa1\"]"));
    OK(flowdb_jsondb_delete_object_store(db, "\xef\xbd\xa1", NULL));
    OK(flowdb_jsondb_delete_object_store(db, "\xf0\x90\x80\x80", NULL));
    {
        const char *some[1] = {"users"};
        flowdb_txn_t *none = NULL;
        CHECK(flowdb_jsondb_transaction(db, some, 0, FLOWDB_READ_ONLY_TXN, &none, NULL) ==
              FLOWDB_INVALID_ARGUMENT && none == NULL);
    }
    OK(flowdb_jsondb_get_store(db, "nope", &s, NULL));
    CHECK(s == NULL);
    OK(flowdb_jsondb_get_store(db, "plain", &s, NULL));
    CHECK(s && strstr(s, "\"key_path\":\"k\"") != NULL);
    flowdb_string_free(s);

    /* CRUD. */
    char *key = NULL;
    OK(flowdb_jsondb_put_auto(db, "users", J("{\"email\":\"a@x\",\"age\":41,\"city\":\"Oslo\",\"tags\":[\"a\",\"b\"]}"), &key, NULL));
    CHECK(eq_free(key, "1"));
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":7,\"email\":\"b@x\",\"age\":30,\"city\":\"Oslo\",\"tags\":[\"b\"]}"), NULL, NULL));
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":9,\"email\":\"c@x\",\"age\":35,\"city\":\"Lima\"}"), NULL, NULL));
    flowdb_error_t *err = NULL;
    CHECK(flowdb_jsondb_put(db, "users", J("{\"id\":10,\"email\":\"a@x\"}"), NULL, &err) == FLOWDB_CONSTRAINT);
    CHECK(err && strstr(flowdb_error_message(err), "email") != NULL);
    flowdb_error_free(err);
    CHECK(flowdb_jsondb_put(db, "users", J("{\"id\":{\"o\":1}}"), NULL, NULL) == FLOWDB_DATA);
    CHECK(flowdb_jsondb_put(db, "nope", J("{\"id\":1}"), NULL, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_put(db, "users", "\xff\xfe", 2, NULL, NULL) == FLOWDB_INVALID_ARGUMENT); /* bad UTF-8 */
    CHECK(flowdb_jsondb_put(db, NULL, J("{}"), NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_put(NULL, "users", J("{}"), NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_jsondb_get(db, "users", J("7"), &s, NULL));
    CHECK(s && strstr(s, "\"b@x\"") != NULL);
    flowdb_string_free(s);
    OK(flowdb_jsondb_get(db, "users", J("8"), &s, NULL));
    CHECK(s == NULL);
    size_t n = 0;
    OK(flowdb_jsondb_count(db, "users", &n, NULL));
    CHECK(n == 3);
    OK(flowdb_jsondb_delete(db, "users", J("9"), NULL));
    OK(flowdb_jsondb_count(db, "users", &n, NULL));
    CHECK(n == 2);
    OK(flowdb_jsondb_scan(db, "users", &s, NULL));
    CHECK(s && strstr(s, "a@x") && strstr(s, "b@x") && !strstr(s, "c@x"));
    flowdb_string_free(s);

    /* Index queries, key ranges, directions. */
    OK(flowdb_jsondb_get_by_index(db, "users", "tags", J("\"b\""), &s, NULL));
    CHECK(s && strstr(s, "a@x") && strstr(s, "b@x"));
    flowdb_string_free(s);
    OK(flowdb_jsondb_get_by_index(db, "users", "city_age", J("[\"Oslo\",30]"), &s, NULL));
    CHECK(s && strstr(s, "b@x") && !strstr(s, "a@x"));
    flowdb_string_free(s);
    OK(flowdb_jsondb_range_by_index(db, "users", "age", J("30"), J("42"), &s, NULL));
    CHECK(s && strstr(s, "b@x") && strstr(s, "b@x") < strstr(s, "a@x")); /* index order: age 30 before 41 */
    flowdb_string_free(s);
    /* Half-open: 41 is the end, so only age 30; [30, 30) is empty. */
    OK(flowdb_jsondb_range_by_index(db, "users", "age", J("30"), J("41"), &s, NULL));
    CHECK(s && strstr(s, "b@x") && !strstr(s, "a@x"));
    flowdb_string_free(s);
    OK(flowdb_jsondb_range_by_index(db, "users", "age", J("30"), J("30"), &s, NULL));
    CHECK(eq_free(s, "[]"));
    /* A compound-index prefix: "Oslo" matches ["Oslo", 30] and ["Oslo", 41]. */
    OK(flowdb_jsondb_get_by_index(db, "users", "city_age", J("\"Oslo\""), &s, NULL));
    CHECK(s && strstr(s, "a@x") && strstr(s, "b@x"));
    flowdb_string_free(s);
    /* null and booleans are keys: a todo-style "done" flag. */
    OK(flowdb_jsondb_put(db, "plain", J("{\"k\":1,\"x\":false}"), NULL, NULL));
    OK(flowdb_jsondb_put(db, "plain", J("{\"k\":2,\"x\":true}"), NULL, NULL));
    OK(flowdb_jsondb_put(db, "plain", J("{\"k\":3,\"x\":null}"), NULL, NULL));
    OK(flowdb_jsondb_get_by_index(db, "plain", "by_x", J("false"), &s, NULL));
    CHECK(eq_free(s, "[{\"k\":1,\"x\":false}]"));
    OK(flowdb_jsondb_range_by_index(db, "plain", "by_x", J("null"), J("true"), &s, NULL));
    CHECK(eq_free(s, "[{\"k\":3,\"x\":null},{\"k\":1,\"x\":false}]"));
    for (int k = 1; k <= 3; k++) {
        char key_text[4];
        snprintf(key_text, sizeof key_text, "%d", k);
        OK(flowdb_jsondb_delete(db, "plain", J(key_text), NULL));
    }
    flowdb_key_range_t *r = NULL;
    OK(flowdb_key_range_bound(J("30"), J("41"), true, false, &r, NULL));
    OK(flowdb_jsondb_index_query(db, "users", "age", r, FLOWDB_PREV, &s, NULL));
    CHECK(s && strstr(s, "a@x") && !strstr(s, "b@x"));
    flowdb_string_free(s);
    OK(flowdb_jsondb_count_by_index(db, "users", "age", r, &n, NULL));
    CHECK(n == 1);
    flowdb_key_range_free(r);
    CHECK(flowdb_key_range_bound(J("5"), J("1"), false, false, &r, NULL) == FLOWDB_DATA);
    CHECK(flowdb_key_range_only(J("{}"), &r, NULL) == FLOWDB_DATA); /* objects are no keys */
    OK(flowdb_key_range_lower_bound(J("5"), false, &r, NULL));
    OK(flowdb_jsondb_get_range(db, "users", r, FLOWDB_NEXT, &s, NULL));
    CHECK(s && strstr(s, "b@x") && !strstr(s, "a@x"));
    flowdb_string_free(s);
    flowdb_key_range_free(r);
    OK(flowdb_key_range_upper_bound(J("5"), true, &r, NULL));
    CHECK(flowdb_jsondb_get_range(db, "users", r, 7, &s, NULL) == FLOWDB_INVALID_ARGUMENT); /* bad direction */
    flowdb_key_range_free(r);
    r = flowdb_key_range_all();
    OK(flowdb_jsondb_index_query(db, "users", "tags", r, FLOWDB_NEXT_UNIQUE, &s, NULL));
    flowdb_string_free(s);
    OK(flowdb_jsondb_index_query(db, "users", "tags", r, FLOWDB_PREV_UNIQUE, &s, NULL));
    flowdb_string_free(s);
    CHECK(flowdb_jsondb_index_query(db, "users", "nope", r, FLOWDB_NEXT, &s, NULL) == FLOWDB_NOT_FOUND);
    flowdb_key_range_free(r);

    /* Query builder: indexed and scanned give the same answer. */
    for (int scan = 0; scan < 2; scan++) {
        flowdb_query_t *q = flowdb_query_new("users");
        OK(flowdb_query_where_eq(q, "city", J("\"Oslo\""), NULL));
        OK(flowdb_query_where_range(q, "age", J("18"), J("99"), NULL));
        OK(flowdb_query_where_in(q, "email", J("[\"a@x\",\"b@x\",\"z@x\"]"), NULL));
        OK(flowdb_query_order_by(q, "age", true, NULL));
        OK(flowdb_query_offset(q, 0, NULL));
        OK(flowdb_query_limit(q, 10, NULL));
        if (scan) OK(flowdb_query_scan_only(q, NULL));
        CHECK(flowdb_query_where_in(q, "email", J("\"not an array\""), NULL) == FLOWDB_INVALID_ARGUMENT);
        /* Not a valid key: refused by the call that took it; the query is unchanged. */
        CHECK(flowdb_query_where_eq(q, "city", J("{\"o\":1}"), NULL) == FLOWDB_DATA);
        OK(flowdb_query_collect(db, q, &s, NULL));
        CHECK(s && strstr(s, "a@x") < strstr(s, "b@x")); /* age descending: 41 then 30 */
        flowdb_string_free(s);
        flowdb_query_free(q);
    }
    CHECK(flowdb_query_new(NULL) == NULL);

    /* Transactions. */
    const char *scope[1] = {"users"};
    flowdb_txn_t *t = NULL;
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    OK(flowdb_txn_put(t, "users", J("{\"id\":20,\"email\":\"t@x\",\"age\":22,\"city\":\"Pune\"}"), &key, NULL));
    CHECK(eq_free(key, "20"));
    OK(flowdb_txn_put_auto(t, "users", J("{\"email\":\"u@x\"}"), &key, NULL));
    CHECK(eq_free(key, "21"));
    OK(flowdb_txn_get(t, "users", J("20"), &s, NULL));
    CHECK(s != NULL); /* read-your-writes */
    flowdb_string_free(s);
    CHECK(flowdb_txn_put(t, "users", J("{\"id\":22,\"email\":\"t@x\"}"), NULL, NULL) == FLOWDB_CONSTRAINT);
    OK(flowdb_txn_count(t, "users", &n, NULL));
    CHECK(n == 4);
    OK(flowdb_txn_delete(t, "users", J("7"), NULL));
    OK(flowdb_txn_scan(t, "users", &s, NULL));
    CHECK(s && !strstr(s, "b@x"));
    flowdb_string_free(s);
    OK(flowdb_txn_get_by_index(t, "users", "email", J("\"t@x\""), &s, NULL));
    flowdb_string_free(s);
    OK(flowdb_txn_range_by_index(t, "users", "age", J("0"), J("100"), &s, NULL));
    flowdb_string_free(s);
    r = flowdb_key_range_all();
    OK(flowdb_txn_index_query(t, "users", "age", r, FLOWDB_PREV, &s, NULL));
    flowdb_string_free(s);
    flowdb_key_range_free(r);
    CHECK(flowdb_txn_get(t, "plain", J("1"), &s, NULL) == FLOWDB_NOT_FOUND); /* outside the scope */
    CHECK(flowdb_jsondb_shutdown(db, NULL) == FLOWDB_BUSY);                  /* a transaction is open */
    OK(flowdb_txn_commit(t, NULL));
    CHECK(flowdb_txn_put(t, "users", J("{\"id\":30}"), NULL, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_txn_commit(t, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_txn_abort(t, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    flowdb_txn_free(t);
    OK(flowdb_jsondb_count(db, "users", &n, NULL));
    CHECK(n == 3); /* 1, 20, 21 */

    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_ONLY_TXN, &t, NULL));
    CHECK(flowdb_txn_put(t, "users", J("{\"id\":40}"), NULL, NULL) == FLOWDB_READ_ONLY);
    flowdb_txn_free(t);
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    OK(flowdb_txn_put(t, "users", J("{\"id\":50,\"email\":\"gone@x\"}"), NULL, NULL));
    OK(flowdb_txn_abort(t, NULL));
    flowdb_txn_free(t);
    OK(flowdb_jsondb_get(db, "users", J("50"), &s, NULL));
    CHECK(s == NULL);
    /* A second overlapping read-write transaction on this thread: BUSY, not a deadlock. */
    OK(flowdb_jsondb_set_transaction_timeout_ms(db, 100, NULL));
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    flowdb_txn_t *t2 = NULL;
    CHECK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t2, NULL) == FLOWDB_BUSY);
    CHECK(t2 == NULL);
    flowdb_txn_free(t); /* aborts */
    CHECK(flowdb_jsondb_transaction(db, scope, 1, 9, &t2, NULL) == FLOWDB_INVALID_ARGUMENT);
    const char *unknown[1] = {"nope"};
    CHECK(flowdb_jsondb_transaction(db, unknown, 1, FLOWDB_READ_ONLY_TXN, &t2, NULL) == FLOWDB_NOT_FOUND);

    /* The underlying engine. */
    OK(flowdb_jsondb_engine_flush(db, NULL));
    flowdb_stats_t st = {.struct_size = sizeof st};
    OK(flowdb_jsondb_engine_stats(db, &st, NULL));
    CHECK(st.total_flushes >= 1 && st.sstable_count >= 1);
    OK(flowdb_jsondb_engine_metrics_text(db, &s, NULL));
    CHECK(s && strstr(s, "flowdb_sstables") != NULL);
    flowdb_string_free(s);

    /* Store deletion, close, shutdown, closed handle, reopen through an engine. */
    OK(flowdb_jsondb_delete_object_store(db, "plain", NULL));
    OK(flowdb_jsondb_sync(db, NULL)); /* flush + sync: the database stays open */
    OK(flowdb_jsondb_count(db, "users", &n, NULL));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    OK(flowdb_jsondb_close(db, NULL)); /* the deprecated name of flowdb_jsondb_sync */
#pragma GCC diagnostic pop
    OK(flowdb_jsondb_shutdown(db, NULL));
    CHECK(flowdb_jsondb_sync(db, NULL) == FLOWDB_CLOSED);
    CHECK(flowdb_jsondb_count(db, "users", &n, NULL) == FLOWDB_CLOSED);
    CHECK(flowdb_jsondb_shutdown(db, NULL) == FLOWDB_CLOSED);
    flowdb_jsondb_free(db);
    flowdb_engine_t *e = NULL;
    OK(flowdb_engine_open(o, &e, NULL));
    {
        /* A failed move (a damaged schema) leaves the engine in its handle, open;
         * it used to be dropped, its handle closed. */
        flowdb_records_t *old = NULL;
        flowdb_range_t *cat = flowdb_range_prefix((const uint8_t *)"\0catalog", 8);
        OK(flowdb_engine_query(e, cat, &old, NULL));
        flowdb_range_free(cat);
        CHECK(flowdb_records_len(old) > 0);
        flowdb_record_view_t was;
        OK(flowdb_records_at(old, flowdb_records_len(old) - 1, &was, NULL));
        flowdb_record_view_t bad = was;
        bad.value = (const uint8_t *)"x";
        bad.value_len = 1;
        OK(flowdb_engine_write_batch(e, &bad, 1, NULL));
        flowdb_jsondb_t *none = NULL;
        CHECK(flowdb_jsondb_from_engine(e, &none, NULL) == FLOWDB_CORRUPTION && none == NULL);
        OK(flowdb_engine_write_batch(e, &was, 1, NULL)); /* the schema back, through e */
        flowdb_records_free(old);
    }
    OK(flowdb_jsondb_from_engine(e, &db, NULL));
    CHECK(flowdb_engine_flush(e, NULL) == FLOWDB_CLOSED); /* the engine moved into the db */
    flowdb_engine_free(e);
    OK(flowdb_jsondb_count(db, "users", &n, NULL));
    CHECK(n == 3);
    OK(flowdb_jsondb_store_names(db, &s, NULL));
    CHECK(eq_free(s, "[\"users\"]"));
    flowdb_jsondb_free(db);
    flowdb_jsondb_free(NULL);
    flowdb_txn_free(NULL);
    flowdb_query_free(NULL);
    flowdb_key_range_free(NULL);
    flowdb_options_free(o);
    return finish(base);
}
