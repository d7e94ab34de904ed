/* C tests of JsonDB cursors: store, key, index and index-key cursors in the four
 * directions, continue / continue_to / continue_primary_key / advance, update and
 * delete through a cursor, several cursors on one transaction, cursors on the
 * database (their own read-only transaction), and misuse: a cursor used after its
 * transaction was committed, aborted or freed, freed before or after it, past its
 * end. Every document is read both copied (flowdb_cursor_value) and lent
 * (flowdb_cursor_value_view), whose NULL outputs are refused. Built with -Wall -Wextra -Werror; run by ctest (plainly, under ASan + UBSan and
 * under valgrind: no misuse may touch freed memory). */
#define _DEFAULT_SOURCE
#include "check.h"

/* A part of the entry the cursor is on, compared (want NULL: none). */
typedef flowdb_status_t (*part_fn)(const flowdb_cursor_t *, char **, flowdb_error_t **);
static int part_is(part_fn part, const flowdb_cursor_t *c, const char *want) {
    char *s = NULL;
    if (part(c, &s, NULL) != FLOWDB_OK) return 0;
    if (!want) return s == NULL;
    return eq_free(s, want);
}
#define key_is(c, want) part_is(flowdb_cursor_key, c, want)
#define pk_is(c, want) part_is(flowdb_cursor_primary_key, c, want)
/* The document, copied and lent (flowdb_cursor_value_view: not NUL-terminated). */
static int view_is(const flowdb_cursor_t *c, const char *want) {
    const char *v = "unset";
    size_t n = 99;
    if (flowdb_cursor_value_view(c, &v, &n, NULL) != FLOWDB_OK) return 0;
    if (!want) return v == NULL && n == 0;
    return v != NULL && n == strlen(want) && memcmp(v, want, n) == 0;
}
#define value_is(c, want) (part_is(flowdb_cursor_value, c, want) && view_is(c, want))

/* Walks the cursor to its end, appending each key (then "|") to `out`. */
static void walk(flowdb_cursor_t *c, char *out, size_t cap) {
    out[0] = '\0';
    for (int guard = 0; guard < 100; guard++) {
        char *k = NULL;
        if (flowdb_cursor_key(c, &k, NULL) != FLOWDB_OK || !k) break;
        strncat(out, k, cap - strlen(out) - 1);
        strncat(out, "|", cap - strlen(out) - 1);
        flowdb_string_free(k);
        bool on = false;
        if (flowdb_cursor_continue(c, &on, NULL) != FLOWDB_OK || !on) break;
    }
}

#define D1 "{\"age\":30,\"id\":1}"
#define D2 "{\"age\":20,\"id\":2}"
#define D3 "{\"age\":30,\"id\":3}"
#define D4 "{\"age\":40,\"id\":4}"
#define D5 "{\"age\":30,\"id\":5}"

static const char *scope[1] = {"users"};

static flowdb_txn_t *begin(flowdb_jsondb_t *db, flowdb_txn_mode_t mode) {
    flowdb_txn_t *t = NULL;
    OK(flowdb_jsondb_transaction(db, scope, 1, mode, &t, NULL));
    return t;
}

static void moves(flowdb_jsondb_t *db) {
    flowdb_key_range_t *all = flowdb_key_range_all();
    flowdb_txn_t *t = begin(db, FLOWDB_READ_ONLY_TXN);
    flowdb_cursor_t *c = NULL;
    char keys[256];
    bool on = false;

    /* Every direction of a store cursor. */
    OK(flowdb_txn_open_cursor(t, "users", all, FLOWDB_NEXT, &c, NULL));
    CHECK(key_is(c, "1") && pk_is(c, "1") && value_is(c, D1));
    {
        const char *v = NULL;
        size_t n = 0;
        CHECK(flowdb_cursor_value_view(c, NULL, &n, NULL) == FLOWDB_INVALID_ARGUMENT);
        CHECK(flowdb_cursor_value_view(c, &v, NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    }
    walk(c, keys, sizeof keys);
    CHECK(strcmp(keys, "1|2|3|4|5|") == 0);
    /* Past its end: nothing to read; continue stays there; the rest refuse. */
    CHECK(key_is(c, NULL) && pk_is(c, NULL) && value_is(c, NULL));
    on = true;
    OK(flowdb_cursor_continue(c, &on, NULL));
    CHECK(!on);
    CHECK(flowdb_cursor_advance(c, 1, &on, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_cursor_continue_to(c, J("9"), &on, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_cursor_free(c);
    OK(flowdb_txn_open_cursor(t, "users", all, FLOWDB_PREV, &c, NULL));
    walk(c, keys, sizeof keys);
    CHECK(strcmp(keys, "5|4|3|2|1|") == 0);
    flowdb_cursor_free(c);
    flowdb_key_range_t *r = NULL;
    OK(flowdb_key_range_bound(J("2"), J("4"), true, false, &r, NULL));
    OK(flowdb_txn_open_cursor(t, "users", r, FLOWDB_PREV_UNIQUE, &c, NULL));
    walk(c, keys, sizeof keys);
    CHECK(strcmp(keys, "4|3|") == 0);
    flowdb_cursor_free(c);
    flowdb_key_range_free(r);
    OK(flowdb_key_range_only(J("9"), &r, NULL));
    OK(flowdb_txn_open_cursor(t, "users", r, FLOWDB_NEXT, &c, NULL));
    CHECK(key_is(c, NULL)); /* an empty range: past its end at once */
    flowdb_cursor_free(c);
    flowdb_key_range_free(r);

    /* continue_to and advance. */
    OK(flowdb_txn_open_cursor(t, "users", all, FLOWDB_NEXT, &c, NULL));
    OK(flowdb_cursor_continue_to(c, J("3"), &on, NULL));
    CHECK(on && key_is(c, "3"));
    CHECK(flowdb_cursor_continue_to(c, J("2"), &on, NULL) == FLOWDB_DATA); /* not past it */
    CHECK(flowdb_cursor_continue_to(c, J("3"), &on, NULL) == FLOWDB_DATA);
    CHECK(flowdb_cursor_continue_to(c, J("{}"), &on, NULL) == FLOWDB_DATA); /* no key */
    CHECK(flowdb_cursor_continue_to(c, J("{"), &on, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(key_is(c, "3")); /* failed moves leave it where it was */
    OK(flowdb_cursor_advance(c, 1, &on, NULL));
    CHECK(on && key_is(c, "4"));
    CHECK(flowdb_cursor_advance(c, 0, &on, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_cursor_continue_primary_key(c, J("5"), J("5"), &on, NULL) == FLOWDB_INVALID_ARGUMENT); /* a store cursor */
    OK(flowdb_cursor_advance(c, 5, &on, NULL));
    CHECK(!on && key_is(c, NULL));
    flowdb_cursor_free(c);
    OK(flowdb_txn_open_cursor(t, "users", all, FLOWDB_PREV, &c, NULL));
    OK(flowdb_cursor_continue_to(c, J("2"), &on, NULL)); /* backwards: a lower key */
    CHECK(on && key_is(c, "2"));
    OK(flowdb_cursor_continue_to(c, J("0"), &on, NULL));
    CHECK(!on);
    flowdb_cursor_free(c);

    /* A key cursor: keys only. */
    OK(flowdb_txn_open_key_cursor(t, "users", all, FLOWDB_NEXT, &c, NULL));
    CHECK(key_is(c, "1") && pk_is(c, "1") && value_is(c, NULL));
    walk(c, keys, sizeof keys);
    CHECK(strcmp(keys, "1|2|3|4|5|") == 0);
    flowdb_cursor_free(c);

    /* Index cursors: key is the index key; (index key, primary key) order. */
    OK(flowdb_txn_open_index_cursor(t, "users", "age", all, FLOWDB_NEXT, &c, NULL));
    CHECK(key_is(c, "20") && pk_is(c, "2") && value_is(c, D2));
    walk(c, keys, sizeof keys);
    CHECK(strcmp(keys, "20|30|30|30|40|") == 0);
    flowdb_cursor_free(c);
    OK(flowdb_txn_open_index_cursor(t, "users", "age", all, FLOWDB_NEXT, &c, NULL));
    OK(flowdb_cursor_continue_primary_key(c, J("30"), J("3"), &on, NULL));
    CHECK(on && key_is(c, "30") && pk_is(c, "3") && value_is(c, D3));
    OK(flowdb_cursor_continue_primary_key(c, J("30"), J("4"), &on, NULL)); /* the first past it */
    CHECK(on && key_is(c, "30") && pk_is(c, "5"));
    CHECK(flowdb_cursor_continue_primary_key(c, J("30"), J("1"), &on, NULL) == FLOWDB_DATA); /* behind */
    OK(flowdb_cursor_continue_to(c, J("40"), &on, NULL));
    CHECK(on && pk_is(c, "4"));
    flowdb_cursor_free(c);
    OK(flowdb_txn_open_index_cursor(t, "users", "age", all, FLOWDB_PREV_UNIQUE, &c, NULL));
    CHECK(key_is(c, "40"));
    OK(flowdb_cursor_continue(c, &on, NULL));
    CHECK(on && key_is(c, "30") && pk_is(c, "1")); /* a unique direction: the lowest primary key */
    CHECK(flowdb_cursor_continue_primary_key(c, J("20"), J("2"), &on, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_cursor_free(c);
    OK(flowdb_txn_open_index_cursor(t, "users", "age", all, FLOWDB_NEXT_UNIQUE, &c, NULL));
    walk(c, keys, sizeof keys);
    CHECK(strcmp(keys, "20|30|40|") == 0);
    flowdb_cursor_free(c);
    OK(flowdb_txn_open_index_key_cursor(t, "users", "age", all, FLOWDB_PREV, &c, NULL));
    CHECK(key_is(c, "40") && pk_is(c, "4") && value_is(c, NULL));
    flowdb_cursor_free(c);

    /* Opening: unknown store or index, a store outside the scope, bad arguments. */
    c = NULL;
    CHECK(flowdb_txn_open_cursor(t, "nope", all, FLOWDB_NEXT, &c, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_txn_open_index_cursor(t, "users", "nope", all, FLOWDB_NEXT, &c, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_txn_open_cursor(t, "other", all, FLOWDB_NEXT, &c, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_txn_open_cursor(t, "users", all, 4, &c, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_txn_open_cursor(t, "users", NULL, FLOWDB_NEXT, &c, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(c == NULL);
    /* Writes in a read-only transaction. */
    OK(flowdb_txn_open_cursor(t, "users", all, FLOWDB_NEXT, &c, NULL));
    CHECK(flowdb_cursor_update(c, J(D1), NULL, NULL) == FLOWDB_READ_ONLY);
    CHECK(flowdb_cursor_delete(c, NULL) == FLOWDB_READ_ONLY);
    flowdb_cursor_free(c);
    flowdb_txn_free(t);
    flowdb_key_range_free(all);
}

static void writes(flowdb_jsondb_t *db) {
    flowdb_key_range_t *all = flowdb_key_range_all();
    flowdb_txn_t *t = begin(db, FLOWDB_READ_WRITE_TXN);
    flowdb_cursor_t *c = NULL, *c2 = NULL;
    char keys[256], *s = NULL;
    bool on = false;
    size_t n = 0;

    /* Update: the key must stay; the cursor keeps the value it read; the transaction
     * and later moves see the new document. */
    OK(flowdb_txn_open_cursor(t, "users", all, FLOWDB_NEXT, &c, NULL));
    OK(flowdb_cursor_update(c, J("{\"age\":31,\"id\":1}"), &s, NULL));
    CHECK(eq_free(s, "1"));
    CHECK(value_is(c, D1));
    OK(flowdb_txn_get(t, "users", J("1"), &s, NULL));
    CHECK(eq_free(s, "{\"age\":31,\"id\":1}"));
    CHECK(flowdb_cursor_update(c, J("{\"age\":31,\"id\":2}"), NULL, NULL) == FLOWDB_DATA); /* another key */
    CHECK(flowdb_cursor_update(c, J("{\"age\":31}"), NULL, NULL) == FLOWDB_DATA);           /* no key */
    /* Delete: the cursor stays on its entry until it moves. */
    OK(flowdb_cursor_continue(c, &on, NULL));
    CHECK(on && key_is(c, "2"));
    OK(flowdb_cursor_delete(c, NULL));
    CHECK(key_is(c, "2"));
    OK(flowdb_cursor_continue(c, &on, NULL));
    CHECK(on && key_is(c, "3"));
    OK(flowdb_txn_count(t, "users", &n, NULL));
    CHECK(n == 4);

    /* A second cursor on the same transaction sees the writes so far. */
    OK(flowdb_txn_open_index_cursor(t, "users", "age", all, FLOWDB_NEXT, &c2, NULL));
    walk(c2, keys, sizeof keys);
    CHECK(strcmp(keys, "30|30|31|40|") == 0); /* 2 (age 20) deleted, 1 now 31 */
    flowdb_cursor_free(c2);
    OK(flowdb_txn_open_index_cursor(t, "users", "age", all, FLOWDB_PREV, &c2, NULL));
    OK(flowdb_cursor_update(c2, J("{\"age\":41,\"id\":4}"), NULL, NULL)); /* an index cursor updates too */
    OK(flowdb_cursor_continue(c2, &on, NULL));
    CHECK(on && key_is(c2, "31"));
    OK(flowdb_cursor_delete(c2, NULL));
    OK(flowdb_cursor_continue(c, &on, NULL)); /* the first cursor goes on */
    CHECK(on && key_is(c, "4"));
    /* Key cursors cannot write. */
    flowdb_cursor_t *k = NULL;
    OK(flowdb_txn_open_key_cursor(t, "users", all, FLOWDB_NEXT, &k, NULL));
    CHECK(flowdb_cursor_update(k, J(D3), NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_cursor_delete(k, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_cursor_free(k);

    /* Committed: every call on its cursors is TRANSACTION_INACTIVE, and writes no
     * output; then the transaction is freed before its cursors. */
    OK(flowdb_txn_commit(t, NULL));
    s = NULL;
    on = true;
    CHECK(flowdb_cursor_key(c, &s, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_cursor_value(c2, &s, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    const char *view = NULL;
    size_t view_len = 0;
    CHECK(flowdb_cursor_value_view(c2, &view, &view_len, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(view == NULL && view_len == 0);
    CHECK(flowdb_cursor_continue(c, &on, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_cursor_update(c, J(D3), &s, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(s == NULL && on);
    flowdb_txn_free(t);
    flowdb_error_t *err = NULL;
    CHECK(flowdb_cursor_advance(c2, 1, &on, &err) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(err && strstr(flowdb_error_message(err), "freed") != NULL);
    flowdb_error_free(err);
    CHECK(flowdb_cursor_delete(c, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_cursor_primary_key(c, &s, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    flowdb_cursor_free(c);
    flowdb_cursor_free(c2);
    OK(flowdb_jsondb_get_all_keys(db, "users", all, 0, &s, NULL));
    CHECK(eq_free(s, "[3,4,5]"));

    /* Past its end, it stays there after its transaction writes beyond it. */
    t = begin(db, FLOWDB_READ_WRITE_TXN);
    OK(flowdb_txn_open_cursor(t, "users", all, FLOWDB_NEXT, &c, NULL));
    walk(c, keys, sizeof keys);
    OK(flowdb_txn_put(t, "users", J("{\"id\":9,\"age\":90}"), NULL, NULL));
    on = true;
    OK(flowdb_cursor_continue(c, &on, NULL));
    CHECK(!on && key_is(c, NULL));
    flowdb_cursor_free(c);
    OK(flowdb_txn_abort(t, NULL));
    flowdb_txn_free(t);

    /* Aborted: the cursor's writes go with it; freed before its transaction. */
    t = begin(db, FLOWDB_READ_WRITE_TXN);
    OK(flowdb_txn_open_cursor(t, "users", all, FLOWDB_NEXT, &c, NULL));
    OK(flowdb_cursor_delete(c, NULL));
    OK(flowdb_txn_abort(t, NULL));
    CHECK(flowdb_cursor_continue(c, &on, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    flowdb_cursor_free(c);
    flowdb_txn_free(t);
    OK(flowdb_jsondb_count(db, "users", &n, NULL));
    CHECK(n == 3);
    flowdb_key_range_free(all);
}

static void database_cursors(flowdb_jsondb_t *db) {
    flowdb_key_range_t *all = flowdb_key_range_all();
    flowdb_cursor_t *c = NULL;
    char keys[256];
    bool on = false;

    OK(flowdb_jsondb_open_cursor(db, "users", NULL, all, FLOWDB_NEXT, false, &c, NULL));
    CHECK(key_is(c, "3") && value_is(c, D3));
    /* It holds a read-only transaction: the database cannot shut down, and a
     * read-write transaction over its store (on this thread) is BUSY, not a deadlock. */
    CHECK(flowdb_jsondb_shutdown(db, NULL) == FLOWDB_BUSY);
    OK(flowdb_jsondb_set_transaction_timeout_ms(db, 100, NULL));
    flowdb_txn_t *t = NULL;
    CHECK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, NULL) == FLOWDB_BUSY);
    CHECK(flowdb_cursor_update(c, J(D3), NULL, NULL) == FLOWDB_READ_ONLY);
    CHECK(flowdb_cursor_delete(c, NULL) == FLOWDB_READ_ONLY);
    walk(c, keys, sizeof keys);
    CHECK(strcmp(keys, "3|4|5|") == 0);
    flowdb_cursor_free(c);
    t = begin(db, FLOWDB_READ_WRITE_TXN); /* freed, its transaction ended */
    flowdb_txn_free(t);

    OK(flowdb_jsondb_open_cursor(db, "users", "age", all, FLOWDB_PREV, true, &c, NULL));
    CHECK(key_is(c, "41") && pk_is(c, "4") && value_is(c, NULL));
    OK(flowdb_cursor_advance(c, 2, &on, NULL));
    CHECK(on && key_is(c, "30") && pk_is(c, "3"));
    flowdb_cursor_free(c);
    c = NULL;
    CHECK(flowdb_jsondb_open_cursor(db, "nope", NULL, all, FLOWDB_NEXT, false, &c, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_open_cursor(db, "users", "nope", all, FLOWDB_NEXT, false, &c, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_open_cursor(db, "users", NULL, all, -1, false, &c, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(c == NULL);
    t = begin(db, FLOWDB_READ_WRITE_TXN); /* the failed opens left no transaction behind */
    flowdb_txn_free(t);
    flowdb_cursor_free(NULL);
    flowdb_key_range_free(all);
}

int main(void) {
    char base[] = "/tmp/flowdb-c-cursor-XXXXXX";
    flowdb_options_t *o = NULL;
    flowdb_jsondb_t *db = open_db(base, &o);
    if (!db) return 2;
    OK(flowdb_jsondb_create_store(db, J("{\"name\":\"users\",\"keyPath\":\"id\",\"indexes\":[{\"name\":\"age\",\"keyPath\":\"age\"}]}"), NULL));
    OK(flowdb_jsondb_create_object_store(db, "other", "id", NULL));
    const char *docs[] = {D1, D2, D3, D4, D5};
    for (int i = 0; i < 5; i++) OK(flowdb_jsondb_put(db, "users", J(docs[i]), NULL, NULL));
    moves(db);
    writes(db);
    database_cursors(db);
    /* A cursor outliving its transaction does not hold the database: it shuts down,
     * is freed, and the cursor still answers TRANSACTION_INACTIVE until freed. */
    flowdb_txn_t *t = begin(db, FLOWDB_READ_ONLY_TXN);
    flowdb_key_range_t *all = flowdb_key_range_all();
    flowdb_cursor_t *c = NULL;
    OK(flowdb_txn_open_index_cursor(t, "users", "age", all, FLOWDB_NEXT, &c, NULL));
    flowdb_key_range_free(all);
    CHECK(flowdb_jsondb_shutdown(db, NULL) == FLOWDB_BUSY); /* the transaction holds it */
    flowdb_txn_free(t);
    OK(flowdb_jsondb_shutdown(db, NULL));
    bool on = true;
    CHECK(flowdb_cursor_continue(c, &on, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    flowdb_jsondb_free(db);
    CHECK(flowdb_cursor_advance(c, 1, &on, NULL) == FLOWDB_TRANSACTION_INACTIVE && on);
    flowdb_cursor_free(c);
    flowdb_options_free(o);
    return finish(base);
}
