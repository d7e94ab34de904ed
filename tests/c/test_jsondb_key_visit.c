/* C tests of the typed key visit (flowdb_jsondb_get_all_keys_visit,
 * flowdb_txn_get_all_keys_visit): keys of every type handed out typed and in place, in
 * key order; counts, early stops and handed_out; the index form; a transaction's own
 * writes; what the callback may call (reads, writes to other stores) and what fails
 * with FLOWDB_BUSY instead of waiting forever; bad arguments. Built with -Wall -Wextra
 * -Werror; run by ctest. */
#define _DEFAULT_SOURCE
#include "check.h"

/* The keys seen, written back as text ("n:7", "s:héllo", "a:[1]", "b:true", "null"),
 * joined by '|'; a stop after `stop_after` keys (0: never). */
typedef struct {
    char seen[512];
    size_t calls, stop_after;
    int nul_terminated;
} seen_t;

static bool record(const flowdb_key_view_t *k, void *user) {
    seen_t *s = user;
    char one[128];
    switch (k->kind) {
    case FLOWDB_KEY_NULL: snprintf(one, sizeof one, "null"); break;
    case FLOWDB_KEY_BOOLEAN: snprintf(one, sizeof one, "b:%s", k->boolean ? "true" : "false"); break;
    case FLOWDB_KEY_NUMBER: snprintf(one, sizeof one, "n:%g", k->number); break;
    case FLOWDB_KEY_STRING: snprintf(one, sizeof one, "s:%.*s", (int)k->len, k->text); break;
    case FLOWDB_KEY_ARRAY: snprintf(one, sizeof one, "a:%.*s", (int)k->len, k->text); break;
    }
    /* Text only for strings and arrays, NUL-terminated after `len` bytes. */
    bool texty = k->kind == FLOWDB_KEY_STRING || k->kind == FLOWDB_KEY_ARRAY;
    if (texty ? (k->text == NULL || k->text[k->len] != 0) : (k->text != NULL || k->len != 0)) s->nul_terminated = 0;
    if (s->calls++) strcat(s->seen, "|");
    strcat(s->seen, one);
    return s->stop_after == 0 || s->calls < s->stop_after;
}

static seen_t fresh(size_t stop_after) {
    seen_t s = {{0}, 0, stop_after, 1};
    return s;
}

static void every_type(flowdb_jsondb_t *db, flowdb_key_range_t *all) {
    /* Out-of-line keys of every type, written out of order. */
    const char *keys[] = {"[1,\"a\",[null]]", "\"h\xc3\xa9llo \xf0\x9d\x84\x9e\"", "7", "true", "-1.5", "\"\"", "false", "null"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        OK(flowdb_jsondb_put_with_key(db, "k", J("{\"v\":1}"), J(keys[i]), NULL, NULL));
    seen_t s = fresh(0);
    uint64_t handed = 99;
    OK(flowdb_jsondb_get_all_keys_visit(db, "k", NULL, all, 0, record, &s, &handed, NULL));
    CHECK(!strcmp(s.seen, "null|b:false|b:true|n:-1.5|n:7|s:|s:h\xc3\xa9llo \xf0\x9d\x84\x9e|a:[1,\"a\",[null]]"));
    CHECK(handed == 8 && s.calls == 8 && s.nul_terminated);

    /* A count; a stop from the callback (handed_out counts the calls); NULL handed_out. */
    s = fresh(0);
    OK(flowdb_jsondb_get_all_keys_visit(db, "k", NULL, all, 3, record, &s, &handed, NULL));
    CHECK(!strcmp(s.seen, "null|b:false|b:true") && handed == 3);
    s = fresh(2);
    OK(flowdb_jsondb_get_all_keys_visit(db, "k", NULL, all, 0, record, &s, &handed, NULL));
    CHECK(!strcmp(s.seen, "null|b:false") && handed == 2);
    s = fresh(0);
    flowdb_key_range_t *r = NULL;
    OK(flowdb_key_range_bound(J("0"), J("\"zz\""), false, false, &r, NULL));
    OK(flowdb_jsondb_get_all_keys_visit(db, "k", NULL, r, 0, record, &s, NULL, NULL));
    CHECK(!strcmp(s.seen, "n:7|s:|s:h\xc3\xa9llo \xf0\x9d\x84\x9e"));
    flowdb_key_range_free(r);
}

static void index_and_txn(flowdb_jsondb_t *db, flowdb_key_range_t *all) {
    const char *docs[] = {"{\"age\":30,\"id\":1}", "{\"age\":20,\"id\":2}", "{\"age\":30,\"id\":3}", "{\"age\":40,\"id\":4}"};
    for (int i = 0; i < 4; i++) OK(flowdb_jsondb_put(db, "users", J(docs[i]), NULL, NULL));
    flowdb_key_range_t *r = NULL;
    OK(flowdb_key_range_bound(J("25"), J("45"), false, false, &r, NULL));
    seen_t s = fresh(0);
    uint64_t handed = 0;
    OK(flowdb_jsondb_get_all_keys_visit(db, "users", "age", r, 0, record, &s, &handed, NULL));
    CHECK(!strcmp(s.seen, "n:1|n:3|n:4") && handed == 3); /* index key, then primary key order */

    /* A transaction's visit sees its own writes. */
    const char *scope[1] = {"users"};
    flowdb_txn_t *t = NULL;
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    OK(flowdb_txn_put(t, "users", J("{\"age\":35,\"id\":9}"), NULL, NULL));
    OK(flowdb_txn_delete(t, "users", J("3"), NULL));
    s = fresh(0);
    OK(flowdb_txn_get_all_keys_visit(t, "users", "age", r, 0, record, &s, &handed, NULL));
    CHECK(!strcmp(s.seen, "n:1|n:9|n:4") && handed == 3);
    s = fresh(0);
    OK(flowdb_txn_get_all_keys_visit(t, "users", NULL, all, 0, record, &s, &handed, NULL));
    CHECK(!strcmp(s.seen, "n:1|n:2|n:4|n:9"));
    OK(flowdb_txn_abort(t, NULL));
    CHECK(flowdb_txn_get_all_keys_visit(t, "users", NULL, all, 0, record, &s, NULL, NULL) ==
          FLOWDB_TRANSACTION_INACTIVE);
    flowdb_txn_free(t);
    flowdb_key_range_free(r);
}

/* What a callback may call from inside a visit. */
typedef struct {
    flowdb_jsondb_t *db;
    flowdb_txn_t *txn, *other_txn;
    flowdb_status_t read, other_store, same_store, same_txn, other_txn_read, shutdown;
} nested_t;

static bool nested(const flowdb_key_view_t *k, void *user) {
    (void)k;
    nested_t *n = user;
    char *s = NULL;
    n->read = flowdb_jsondb_get(n->db, "users", J("1"), &s, NULL);
    flowdb_string_free(s);
    n->other_store = flowdb_jsondb_put(n->db, "k", J("{\"v\":2}"), NULL, NULL);
    n->same_store = flowdb_jsondb_put(n->db, "users", J("{\"age\":1,\"id\":77}"), NULL, NULL);
    if (n->txn) n->same_txn = flowdb_txn_put(n->txn, "users", J("{\"age\":1,\"id\":78}"), NULL, NULL);
    if (n->other_txn) {
        size_t count = 0;
        n->other_txn_read = flowdb_txn_count(n->other_txn, "k", &count, NULL);
    }
    n->shutdown = flowdb_jsondb_shutdown(n->db, NULL);
    return false;
}

static void callbacks(flowdb_jsondb_t *db, flowdb_key_range_t *all) {
    /* "k" has out-of-line keys: a put there without a key is refused as data, which
     * still shows it did not wait. */
    nested_t n = {db, NULL, NULL, 99, 99, 99, 99, 99, 99};
    OK(flowdb_jsondb_get_all_keys_visit(db, "users", NULL, all, 0, nested, &n, NULL, NULL));
    CHECK(n.read == FLOWDB_OK);
    CHECK(n.other_store != FLOWDB_BUSY && n.other_store != 99);
    CHECK(n.same_store == FLOWDB_BUSY); /* it would wait for the visit's own read */
    CHECK(n.shutdown == FLOWDB_BUSY);
    /* In a transaction's visit: a call on that transaction is refused, one on another
     * transaction of the thread's runs. */
    const char *scope[1] = {"users"}, *kscope[1] = {"k"};
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &n.txn, NULL));
    OK(flowdb_jsondb_transaction(db, kscope, 1, FLOWDB_READ_ONLY_TXN, &n.other_txn, NULL));
    OK(flowdb_txn_get_all_keys_visit(n.txn, "users", NULL, all, 0, nested, &n, NULL, NULL));
    CHECK(n.same_txn == FLOWDB_BUSY);
    CHECK(n.other_txn_read == FLOWDB_OK);
    OK(flowdb_txn_abort(n.txn, NULL));
    flowdb_txn_free(n.txn);
    flowdb_txn_free(n.other_txn);
    n.other_txn = NULL;
    char *s = NULL;
    OK(flowdb_jsondb_get(db, "users", J("77"), &s, NULL));
    CHECK(s == NULL); /* nothing of the refused writes stayed */
}

static void bad_arguments(flowdb_jsondb_t *db, flowdb_key_range_t *all) {
    seen_t s = fresh(0);
    uint64_t handed = 42;
    flowdb_error_t *err = NULL;
    CHECK(flowdb_jsondb_get_all_keys_visit(db, "users", NULL, all, 0, NULL, &s, &handed, &err) ==
          FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "callback") != NULL);
    flowdb_error_free(err);
    CHECK(flowdb_jsondb_get_all_keys_visit(db, "nope", NULL, all, 0, record, &s, &handed, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_get_all_keys_visit(db, "users", "nope", all, 0, record, &s, &handed, NULL) ==
          FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_get_all_keys_visit(db, "users", NULL, NULL, 0, record, &s, &handed, NULL) ==
          FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_get_all_keys_visit(NULL, "users", NULL, all, 0, record, &s, &handed, NULL) ==
          FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_txn_get_all_keys_visit(NULL, "users", NULL, all, 0, record, &s, &handed, NULL) ==
          FLOWDB_INVALID_ARGUMENT);
    CHECK(s.calls == 0 && handed == 42); /* nothing called, nothing written */
}

int main(void) {
    char base[] = "/tmp/flowdb-c-keyvisit-XXXXXX";
    flowdb_options_t *o = NULL;
    flowdb_jsondb_t *db = open_db(base, &o);
    if (!db) return 2;
    OK(flowdb_jsondb_create_store(
        db, J("{\"name\":\"users\",\"keyPath\":\"id\",\"indexes\":[{\"name\":\"age\",\"keyPath\":\"age\"}]}"), NULL));
    OK(flowdb_jsondb_create_object_store(db, "k", "[]", NULL)); /* out-of-line keys */
    flowdb_key_range_t *all = flowdb_key_range_all();
    every_type(db, all);
    index_and_txn(db, all);
    callbacks(db, all);
    bad_arguments(db, all);
    flowdb_key_range_free(all);
    OK(flowdb_jsondb_shutdown(db, NULL));
    flowdb_jsondb_free(db);
    flowdb_options_free(o);
    return finish(base);
}
