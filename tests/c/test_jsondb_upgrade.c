/* C tests of out-of-line keys and schema versions: stores with key path "[]" written
 * with put_with_key / add_with_key (on the database and in transactions), indexes
 * with an array key path ["a"], both through the one-call schema functions and the
 * JSON description; flowdb_jsondb_open_with_version / _upgrade_to / _version with an
 * upgrade callback making schema changes, renames and a migration through
 * flowdb_upgrade_t and its transaction handle. Misuse: the upgrade, its transaction
 * and a cursor on it used after the callback returned, commit and abort of the
 * upgrade's transaction, schema calls and a nested upgrade from the callback, a
 * callback returning non-zero (after a failed request, and plainly) leaving the
 * database as it was, versions lower than the stored one or 0. Built with -Wall
 * -Wextra -Werror; run by ctest (plainly, under ASan + UBSan and under valgrind). */
#define _DEFAULT_SOURCE
#include "check.h"

/* ---- out-of-line keys ---- */

static void out_of_line_keys(flowdb_jsondb_t *db) {
    char *s = NULL;
    flowdb_error_t *err = NULL;

    /* A store without a key path, an index with an array key path of one path. */
    OK(flowdb_jsondb_create_object_store(db, "notes", "[]", NULL));
    OK(flowdb_jsondb_create_index_on(db, "notes", "by_a", "[\"a\"]", false, NULL));
    OK(flowdb_jsondb_get_store(db, "notes", &s, NULL));
    CHECK(eq_free(s, "{\"name\":\"notes\",\"key_path\":\"[]\",\"auto_increment\":false,\"indexes\":"
                     "[{\"name\":\"by_a\",\"key_paths\":[\"[\\\"a\\\"]\"],\"unique\":false,\"multi_entry\":false}],"
                     "\"next_auto_id\":0}"));

    OK(flowdb_jsondb_put_with_key(db, "notes", J("{\"a\":1,\"b\":2}"), J("\"k1\""), &s, NULL));
    CHECK(eq_free(s, "\"k1\""));
    OK(flowdb_jsondb_put_with_key(db, "notes", J("\"a bare string\""), J("[2,\"x\"]"), NULL, NULL)); /* any JSON value */
    OK(flowdb_jsondb_get(db, "notes", J("[2,\"x\"]"), &s, NULL));
    CHECK(eq_free(s, "\"a bare string\""));
    CHECK(flowdb_jsondb_add_with_key(db, "notes", J("{\"a\":9}"), J("\"k1\""), &s, &err) == FLOWDB_CONSTRAINT);
    CHECK(err != NULL);
    flowdb_error_free(err);
    err = NULL;
    OK(flowdb_jsondb_get(db, "notes", J("\"k1\""), &s, NULL));
    CHECK(eq_free(s, "{\"a\":1,\"b\":2}")); /* unchanged */
    OK(flowdb_jsondb_add_with_key(db, "notes", J("{\"a\":3}"), J("\"k3\""), &s, NULL));
    CHECK(eq_free(s, "\"k3\""));
    OK(flowdb_jsondb_put_with_key(db, "notes", J("{\"a\":1,\"b\":5}"), J("\"k1\""), NULL, NULL)); /* replaces */
    /* The array key path keys {"a": 1} by [1], not 1. */
    OK(flowdb_jsondb_get_by_index(db, "notes", "by_a", J("[1]"), &s, NULL));
    CHECK(eq_free(s, "[{\"a\":1,\"b\":5}]"));
    flowdb_key_range_t *all = flowdb_key_range_all();
    OK(flowdb_jsondb_get_all_keys_by_index(db, "notes", "by_a", all, 0, &s, NULL));
    CHECK(eq_free(s, "[\"k1\",\"k3\"]"));
    OK(flowdb_jsondb_get_all_keys(db, "notes", all, 0, &s, NULL));
    CHECK(eq_free(s, "[\"k1\",\"k3\",[2,\"x\"]]"));

    /* Errors: no key given to an out-of-line store; a key given to an in-line one; a
     * key that is no key; NULL and malformed JSON. Nothing written. */
    s = NULL;
    CHECK(flowdb_jsondb_put(db, "notes", J("{\"a\":1}"), &s, NULL) == FLOWDB_DATA);
    OK(flowdb_jsondb_create_object_store(db, "inline", "id", NULL));
    CHECK(flowdb_jsondb_put_with_key(db, "inline", J("{\"id\":1}"), J("1"), &s, NULL) == FLOWDB_DATA);
    CHECK(flowdb_jsondb_add_with_key(db, "inline", J("{\"id\":1}"), J("1"), &s, NULL) == FLOWDB_DATA);
    CHECK(flowdb_jsondb_put_with_key(db, "notes", J("{}"), J("{\"not\":\"a key\"}"), &s, NULL) == FLOWDB_DATA);
    CHECK(flowdb_jsondb_put_with_key(db, "notes", J("{}"), NULL, 3, &s, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_put_with_key(db, "notes", J("{}"), J("[1,"), &s, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_add_with_key(db, "nope", J("{}"), J("1"), &s, NULL) == FLOWDB_NOT_FOUND);
    CHECK(s == NULL);
    size_t n = 0;
    OK(flowdb_jsondb_count(db, "inline", &n, NULL));
    CHECK(n == 0);

    /* In a transaction: read-your-writes, add_with_key of a key it wrote, abort. */
    const char *scope[1] = {"notes"};
    flowdb_txn_t *t = NULL;
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    OK(flowdb_txn_put_with_key(t, "notes", J("{\"a\":4}"), J("4"), &s, NULL));
    CHECK(eq_free(s, "4"));
    CHECK(flowdb_txn_add_with_key(t, "notes", J("{\"a\":5}"), J("4"), NULL, NULL) == FLOWDB_CONSTRAINT);
    OK(flowdb_txn_add_with_key(t, "notes", J("{\"a\":5}"), J("5"), NULL, NULL));
    OK(flowdb_txn_get(t, "notes", J("5"), &s, NULL));
    CHECK(eq_free(s, "{\"a\":5}"));
    CHECK(flowdb_txn_put_with_key(t, "inline", J("{}"), J("1"), NULL, NULL) == FLOWDB_NOT_FOUND); /* out of scope */
    OK(flowdb_txn_abort(t, NULL));
    CHECK(flowdb_txn_put_with_key(t, "notes", J("{}"), J("6"), NULL, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_txn_add_with_key(t, "notes", J("{}"), J("6"), NULL, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    flowdb_txn_free(t);
    OK(flowdb_jsondb_get(db, "notes", J("4"), &s, NULL));
    CHECK(s == NULL); /* aborted */
    OK(flowdb_jsondb_transaction(db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    OK(flowdb_txn_add_with_key(t, "notes", J("{\"a\":6}"), J("6"), NULL, NULL));
    OK(flowdb_txn_commit(t, NULL));
    flowdb_txn_free(t);
    OK(flowdb_jsondb_get(db, "notes", J("6"), &s, NULL));
    CHECK(eq_free(s, "{\"a\":6}"));

    /* The JSON description passes key path text through: "[]" for the store, the
     * string "[\"a\"]" for an array key path; an array key path store keys by arrays. */
    const char *schema = "{\"name\":\"notes2\",\"keyPath\":\"[]\",\"autoIncrement\":true,"
                         "\"indexes\":[{\"name\":\"by_a\",\"keyPath\":\"[\\\"a\\\"]\"}]}";
    OK(flowdb_jsondb_create_store(db, J(schema), NULL));
    OK(flowdb_jsondb_get_store(db, "notes2", &s, NULL));
    CHECK(eq_free(s, "{\"name\":\"notes2\",\"key_path\":\"[]\",\"auto_increment\":true,\"indexes\":"
                     "[{\"name\":\"by_a\",\"key_paths\":[\"[\\\"a\\\"]\"],\"unique\":false,\"multi_entry\":false}],"
                     "\"next_auto_id\":1}"));
    OK(flowdb_jsondb_put_auto(db, "notes2", J("{\"a\":7}"), &s, NULL)); /* a generated key, not written into it */
    CHECK(eq_free(s, "1"));
    OK(flowdb_jsondb_get(db, "notes2", J("1"), &s, NULL));
    CHECK(eq_free(s, "{\"a\":7}"));
    OK(flowdb_jsondb_get_all_keys_by_index(db, "notes2", "by_a", all, 0, &s, NULL));
    CHECK(eq_free(s, "[1]"));
    OK(flowdb_jsondb_create_object_store(db, "pairs", "[\"x\",\"y\"]", NULL));
    OK(flowdb_jsondb_put(db, "pairs", J("{\"x\":1,\"y\":\"b\"}"), &s, NULL));
    CHECK(eq_free(s, "[1,\"b\"]"));
    CHECK(flowdb_jsondb_create_object_store(db, "bad", "[\"x\",", NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_key_range_free(all);
}

/* ---- schema versions ---- */

/* What the upgrade callbacks are given and leave. */
typedef struct {
    flowdb_jsondb_t *db; /* the database being upgraded, for calls on it (NULL: none) */
    int calls;
    uint64_t old_version, new_version;
    flowdb_upgrade_t *kept_up;  /* kept past the callback: misuse */
    flowdb_txn_t *kept_txn;
    flowdb_cursor_t *kept_cursor;
} ctx_t;

static void saw(ctx_t *c, uint64_t old_version, uint64_t new_version) {
    c->calls++;
    c->old_version = old_version;
    c->new_version = new_version;
}

/* Version 1: stores and indexes, documents through the transaction handle; the
 * upgrade, its transaction and a cursor on it are kept past the call. */
static int upgrade_v1(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
    ctx_t *c = user;
    saw(c, old_version, new_version);
    char *s = NULL;
    OK(flowdb_upgrade_create_object_store(up, "people", "id", NULL));
    const char *paths[] = {"name"};
    OK(flowdb_upgrade_create_index_with(up, "people", "by_name", paths, 1, false, false, NULL));
    OK(flowdb_upgrade_create_store(up, J("{\"name\":\"notes\",\"keyPath\":\"[]\",\"indexes\":[{\"name\":\"by_a\",\"keyPath\":\"[\\\"a\\\"]\"}]}"), NULL));
    OK(flowdb_upgrade_create_object_store(up, "scratch", "id", NULL));
    OK(flowdb_upgrade_delete_object_store(up, "scratch", NULL));
    flowdb_txn_t *t = NULL;
    OK(flowdb_upgrade_txn(up, &t, NULL));
    /* The new stores are usable at once. */
    OK(flowdb_txn_put(t, "people", J("{\"id\":1,\"name\":\"Ada\"}"), NULL, NULL));
    OK(flowdb_txn_put(t, "people", J("{\"id\":2,\"name\":\"Bob\"}"), NULL, NULL));
    OK(flowdb_txn_put_with_key(t, "notes", J("{\"a\":1}"), J("\"n1\""), NULL, NULL));
    OK(flowdb_txn_get_by_index(t, "people", "by_name", J("\"Ada\""), &s, NULL));
    CHECK(eq_free(s, "[{\"id\":1,\"name\":\"Ada\"}]"));
    CHECK(flowdb_txn_get(t, "scratch", J("1"), &s, NULL) == FLOWDB_NOT_FOUND);
    /* The callback's value commits or aborts: the transaction itself cannot. */
    CHECK(flowdb_txn_commit(t, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_txn_abort(t, NULL) == FLOWDB_INVALID_ARGUMENT);
    /* A second handle on the same transaction, freed during the call: the upgrade goes on. */
    flowdb_txn_t *t2 = NULL;
    OK(flowdb_upgrade_txn(up, &t2, NULL));
    size_t n = 0;
    OK(flowdb_txn_count(t2, "people", &n, NULL));
    CHECK(n == 2);
    flowdb_txn_free(t2);
    OK(flowdb_txn_count(t, "people", &n, NULL));
    CHECK(n == 2);
    flowdb_key_range_t *all = flowdb_key_range_all();
    OK(flowdb_txn_open_cursor(t, "people", all, FLOWDB_NEXT, &c->kept_cursor, NULL));
    flowdb_key_range_free(all);
    c->kept_up = up;
    c->kept_txn = t;
    return 0;
}

/* Everything on an upgrade, its transaction and its cursor after the callback
 * returned: TRANSACTION_INACTIVE, no output written, no freed memory read. */
static void used_after_the_callback(ctx_t *c) {
    flowdb_upgrade_t *up = c->kept_up;
    const char *paths[] = {"x"};
    flowdb_txn_t *t = NULL;
    CHECK(flowdb_upgrade_txn(up, &t, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(t == NULL);
    CHECK(flowdb_upgrade_create_object_store(up, "late", "id", NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_upgrade_create_store(up, J("{\"name\":\"late\",\"keyPath\":\"id\"}"), NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_upgrade_delete_object_store(up, "people", NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_upgrade_create_index_with(up, "people", "x", paths, 1, false, false, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_upgrade_delete_index(up, "people", "by_name", NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_upgrade_rename_store(up, "people", "p", NULL) == FLOWDB_TRANSACTION_INACTIVE);
    flowdb_error_t *err = NULL;
    CHECK(flowdb_upgrade_rename_index(up, "people", "by_name", "n", &err) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(err && strstr(flowdb_error_message(err), "valid only during its callback") != NULL);
    flowdb_error_free(err);
    char *s = NULL;
    size_t n = 77;
    CHECK(flowdb_txn_put(c->kept_txn, "people", J("{\"id\":9}"), &s, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_txn_get(c->kept_txn, "people", J("1"), &s, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_txn_count(c->kept_txn, "people", &n, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_txn_commit(c->kept_txn, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_txn_abort(c->kept_txn, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(s == NULL && n == 77);
    bool on = true;
    CHECK(flowdb_cursor_continue(c->kept_cursor, &on, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(flowdb_cursor_key(c->kept_cursor, &s, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(on && s == NULL);
    /* Freed after the upgrade, the cursor before its transaction handle or after. */
    flowdb_txn_free(c->kept_txn);
    flowdb_cursor_free(c->kept_cursor);
    c->kept_txn = NULL;
    c->kept_cursor = NULL;
}

/* Version 2 on an open database: renames, index changes, a migration; calls on the
 * database itself from the callback. */
static int upgrade_v2(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
    ctx_t *c = user;
    saw(c, old_version, new_version);
    flowdb_jsondb_t *db = c->db;
    flowdb_error_t *err = NULL;
    char *s = NULL;
    OK(flowdb_upgrade_rename_store(up, "people", "persons", NULL));
    OK(flowdb_upgrade_rename_index(up, "persons", "by_name", "name", NULL));
    CHECK(flowdb_upgrade_rename_store(up, "persons", "notes", NULL) == FLOWDB_CONSTRAINT);
    CHECK(flowdb_upgrade_rename_store(up, "people", "x", NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_upgrade_rename_index(up, "persons", "nope", "x", NULL) == FLOWDB_NOT_FOUND);
    OK(flowdb_upgrade_delete_index(up, "notes", "by_a", NULL));
    const char *paths[] = {"v"};
    flowdb_txn_t *t = NULL;
    OK(flowdb_upgrade_txn(up, &t, NULL));
    /* A migration: every document gains a field, then an index over it. */
    OK(flowdb_txn_put(t, "persons", J("{\"id\":1,\"name\":\"Ada\",\"v\":2}"), NULL, NULL));
    OK(flowdb_txn_put(t, "persons", J("{\"id\":2,\"name\":\"Bob\",\"v\":2}"), NULL, NULL));
    OK(flowdb_upgrade_create_index_with(up, "persons", "by_v", paths, 1, false, false, NULL));
    OK(flowdb_txn_get_by_index(t, "persons", "by_v", J("2"), &s, NULL));
    CHECK(eq_free(s, "[{\"id\":1,\"name\":\"Ada\",\"v\":2},{\"id\":2,\"name\":\"Bob\",\"v\":2}]"));
    flowdb_txn_free(t);
    /* The database's one-call schema changes and a nested upgrade would wait for this
     * one for ever: BUSY. Shutting it down: BUSY (the upgrade holds it). */
    CHECK(flowdb_jsondb_create_object_store(db, "x", "id", &err) == FLOWDB_BUSY);
    CHECK(err && strstr(flowdb_error_message(err), "flowdb_upgrade_t") != NULL);
    flowdb_error_free(err);
    CHECK(flowdb_jsondb_create_store(db, J("{\"name\":\"x\",\"keyPath\":\"id\"}"), NULL) == FLOWDB_BUSY);
    CHECK(flowdb_jsondb_create_index_on(db, "persons", "x", "x", false, NULL) == FLOWDB_BUSY);
    CHECK(flowdb_jsondb_delete_index(db, "persons", "name", NULL) == FLOWDB_BUSY);
    CHECK(flowdb_jsondb_delete_object_store(db, "notes", NULL) == FLOWDB_BUSY);
    CHECK(flowdb_jsondb_upgrade_to(db, 9, upgrade_v2, user, NULL) == FLOWDB_BUSY);
    CHECK(flowdb_jsondb_shutdown(db, NULL) == FLOWDB_BUSY);
    uint64_t v = 0;
    OK(flowdb_jsondb_version(db, &v, NULL));
    CHECK(v == 1); /* not yet */
    return 0;
}

static int never_called(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
    (void)up;
    saw(user, old_version, new_version);
    return 0;
}

/* Changes, then a request that fails, then non-zero: the opener gets that error. */
static int upgrade_fails(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
    saw(user, old_version, new_version);
    OK(flowdb_upgrade_create_object_store(up, "temp", "id", NULL));
    OK(flowdb_upgrade_rename_store(up, "persons", "gone", NULL));
    flowdb_txn_t *t = NULL;
    OK(flowdb_upgrade_txn(up, &t, NULL));
    OK(flowdb_txn_put(t, "temp", J("{\"id\":1}"), NULL, NULL));
    OK(flowdb_txn_delete(t, "notes", J("\"n1\""), NULL));
    const char *paths[] = {"v"};
    /* A unique index over documents sharing a value. */
    flowdb_status_t st = flowdb_upgrade_create_index_with(up, "gone", "uniq", paths, 1, true, false, NULL);
    CHECK(st == FLOWDB_CONSTRAINT);
    flowdb_txn_free(t);
    return st == FLOWDB_OK ? 0 : 1;
}

/* A request through the transaction handle fails, a later one succeeds, and the
 * callback returns non-zero: the error of the last failed request is reported. */
static int upgrade_fails_in_txn(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
    saw(user, old_version, new_version);
    flowdb_txn_t *t = NULL;
    OK(flowdb_upgrade_txn(up, &t, NULL));
    CHECK(flowdb_txn_add(t, "persons", J("{\"id\":1}"), NULL, NULL) == FLOWDB_CONSTRAINT);
    OK(flowdb_txn_put(t, "persons", J("{\"id\":3,\"name\":\"Cy\",\"v\":2}"), NULL, NULL));
    flowdb_txn_free(t);
    return -1;
}

/* Non-zero without a failed request. */
static int upgrade_declines(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
    saw(user, old_version, new_version);
    OK(flowdb_upgrade_create_object_store(up, "temp", "id", NULL));
    return 7;
}

/* A failed request handled, then 0: the upgrade commits. */
static int upgrade_recovers(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
    saw(user, old_version, new_version);
    if (flowdb_upgrade_create_object_store(up, "persons", "other", NULL) != FLOWDB_CONSTRAINT) return 1;
    OK(flowdb_upgrade_create_object_store(up, "extra", "[]", NULL));
    return 0;
}

static void expect_v2_unchanged(flowdb_jsondb_t *db) {
    char *s = NULL;
    size_t n = 0;
    OK(flowdb_jsondb_count(db, "notes", &n, NULL));
    CHECK(n == 1);
    uint64_t v = 0;
    OK(flowdb_jsondb_version(db, &v, NULL));
    CHECK(v == 2);
    OK(flowdb_jsondb_store_names(db, &s, NULL));
    CHECK(eq_free(s, "[\"notes\",\"persons\"]"));
    s = NULL;
    OK(flowdb_jsondb_scan(db, "persons", &s, NULL));
    CHECK(eq_free(s, "[{\"id\":1,\"name\":\"Ada\",\"v\":2},{\"id\":2,\"name\":\"Bob\",\"v\":2}]"));
}

static void versions(const char *base) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/versions", base);
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    ctx_t c;
    memset(&c, 0, sizeof c);
    flowdb_jsondb_t *db = NULL;
    flowdb_error_t *err = NULL;
    char *s = NULL;
    uint64_t v = 99;

    /* A new database: the upgrade from 0 runs once, and commits with version 1. */
    OK(flowdb_jsondb_open_with_version(o, 1, upgrade_v1, &c, &db, NULL));
    CHECK(c.calls == 1 && c.old_version == 0 && c.new_version == 1);
    OK(flowdb_jsondb_version(db, &v, NULL));
    CHECK(v == 1);
    OK(flowdb_jsondb_get_by_index(db, "people", "by_name", J("\"Bob\""), &s, NULL));
    CHECK(eq_free(s, "[{\"id\":2,\"name\":\"Bob\"}]"));
    flowdb_key_range_t *all = flowdb_key_range_all();
    OK(flowdb_jsondb_get_all_keys_by_index(db, "notes", "by_a", all, 0, &s, NULL));
    CHECK(eq_free(s, "[\"n1\"]"));
    flowdb_key_range_free(all);
    OK(flowdb_jsondb_store_names(db, &s, NULL));
    CHECK(eq_free(s, "[\"notes\",\"people\"]"));
    used_after_the_callback(&c);
    OK(flowdb_jsondb_shutdown(db, NULL));
    flowdb_jsondb_free(db);

    /* The same version: no upgrade. A lower one, 0 or no callback: INVALID_ARGUMENT,
     * nothing opened. */
    db = NULL;
    OK(flowdb_jsondb_open_with_version(o, 1, never_called, &c, &db, NULL));
    CHECK(c.calls == 1);
    OK(flowdb_jsondb_shutdown(db, NULL));
    flowdb_jsondb_free(db);
    db = NULL;
    CHECK(flowdb_jsondb_open_with_version(o, 0, never_called, &c, &db, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_open_with_version(o, 2, NULL, &c, &db, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(db == NULL && c.calls == 1);

    /* upgrade_to on an open database. */
    OK(flowdb_jsondb_open(o, &db, NULL));
    OK(flowdb_jsondb_version(db, &v, NULL));
    CHECK(v == 1); /* a plain open keeps the version */
    c.db = db;
    OK(flowdb_jsondb_upgrade_to(db, 2, upgrade_v2, &c, NULL));
    CHECK(c.calls == 2 && c.old_version == 1 && c.new_version == 2);
    expect_v2_unchanged(db);
    CHECK(flowdb_jsondb_get(db, "people", J("1"), &s, NULL) == FLOWDB_NOT_FOUND);
    OK(flowdb_jsondb_get_by_index(db, "persons", "name", J("\"Ada\""), &s, NULL));
    CHECK(eq_free(s, "[{\"id\":1,\"name\":\"Ada\",\"v\":2}]"));
    CHECK(flowdb_jsondb_get_by_index(db, "notes", "by_a", J("[1]"), &s, NULL) == FLOWDB_NOT_FOUND);
    OK(flowdb_jsondb_upgrade_to(db, 2, never_called, &c, NULL)); /* the same: nothing */
    CHECK(c.calls == 2);
    CHECK(flowdb_jsondb_upgrade_to(db, 1, never_called, &c, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "version 2") != NULL);
    flowdb_error_free(err);
    err = NULL;
    CHECK(flowdb_jsondb_upgrade_to(db, 0, never_called, &c, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_upgrade_to(db, 3, NULL, &c, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(c.calls == 2);

    /* Aborted upgrades leave the database as it was: the error of the last failed
     * request, or TRANSACTION_INACTIVE naming the callback's value. */
    CHECK(flowdb_jsondb_upgrade_to(db, 3, upgrade_fails, &c, &err) == FLOWDB_CONSTRAINT);
    CHECK(err && flowdb_error_code(err) == FLOWDB_CONSTRAINT && strstr(flowdb_error_message(err), "constraint") != NULL);
    flowdb_error_free(err);
    err = NULL;
    expect_v2_unchanged(db);
    CHECK(flowdb_jsondb_upgrade_to(db, 3, upgrade_fails_in_txn, &c, &err) == FLOWDB_CONSTRAINT);
    flowdb_error_free(err);
    err = NULL;
    expect_v2_unchanged(db);
    CHECK(flowdb_jsondb_upgrade_to(db, 3, upgrade_declines, &c, &err) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(err && strstr(flowdb_error_message(err), "returned 7") != NULL);
    flowdb_error_free(err);
    err = NULL;
    expect_v2_unchanged(db);
    CHECK(c.calls == 5);
    OK(flowdb_jsondb_upgrade_to(db, 3, upgrade_recovers, &c, NULL));
    OK(flowdb_jsondb_version(db, &v, NULL));
    CHECK(v == 3);
    OK(flowdb_jsondb_get_store(db, "extra", &s, NULL));
    CHECK(s && strstr(s, "\"key_path\":\"[]\"") != NULL);
    flowdb_string_free(s);
    /* One-call schema changes work again, and keep the version. */
    OK(flowdb_jsondb_create_object_store(db, "later", "id", NULL));
    OK(flowdb_jsondb_version(db, &v, NULL));
    CHECK(v == 3);
    OK(flowdb_jsondb_shutdown(db, NULL));
    CHECK(flowdb_jsondb_version(db, &v, NULL) == FLOWDB_CLOSED);
    CHECK(flowdb_jsondb_upgrade_to(db, 4, never_called, &c, NULL) == FLOWDB_CLOSED);
    flowdb_jsondb_free(db);

    /* Reopened lower: INVALID_ARGUMENT; an aborted open of a new directory leaves an
     * empty database at version 0. */
    db = NULL;
    CHECK(flowdb_jsondb_open_with_version(o, 2, never_called, &c, &db, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "version 3") != NULL);
    flowdb_error_free(err);
    err = NULL;
    CHECK(db == NULL);
    snprintf(dir, sizeof dir, "%s/aborted", base);
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    CHECK(flowdb_jsondb_open_with_version(o, 1, upgrade_declines, &c, &db, NULL) == FLOWDB_TRANSACTION_INACTIVE);
    CHECK(db == NULL && c.old_version == 0);
    OK(flowdb_jsondb_open(o, &db, NULL));
    OK(flowdb_jsondb_version(db, &v, NULL));
    CHECK(v == 0);
    OK(flowdb_jsondb_store_names(db, &s, NULL));
    CHECK(eq_free(s, "[]"));
    OK(flowdb_jsondb_shutdown(db, NULL));
    flowdb_jsondb_free(db);
    flowdb_options_free(o);
}

int main(void) {
    char base[] = "/tmp/flowdb-c-upgrade-XXXXXX";
    flowdb_options_t *o = NULL;
    flowdb_jsondb_t *db = open_db(base, &o);
    if (!db) return 2;
    out_of_line_keys(db);
    OK(flowdb_jsondb_shutdown(db, NULL));
    flowdb_jsondb_free(db);
    flowdb_options_free(o);
    versions(base);
    return finish(base);
}
