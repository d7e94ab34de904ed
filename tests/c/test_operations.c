#define _DEFAULT_SOURCE
/* C tests of the operational calls, for engines and document databases: checkpoints
 * and backups (the copy opens and reads; an existing destination is refused),
 * read-only instances on a directory another handle of this process is writing
 * (reads, catch_up, a checkpoint of it, writes refused with FLOWDB_READ_ONLY), background errors and
 * resume on a healthy engine, and event listeners (function pointer + user data):
 * flush and compaction events, nothing after removal, replacement and free waiting for
 * the last call. Built with -Wall -Wextra -Werror; run by ctest, also statically,
 * under AddressSanitizer/UBSan and under valgrind.
 *
 * A real background error needs a failing disk (ENOSPC, EIO in a background flush):
 * hard to produce from C, so tests/background_errors.rs covers it (writes stopped
 * until resume, the FLOWDB_EVENT_ERROR and FLOWDB_EVENT_RESUMED events) with a fault-
 * injecting file system. Here: the healthy answers, and the calls after shutdown.
 * And merges for reads: range reads that pay for merging the runs they read. */
#include "flowdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures = 0, checks = 0;
#define CHECK(cond)                                                                          \
    do {                                                                                     \
        checks++;                                                                            \
        if (!(cond)) {                                                                       \
            failures++;                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
        }                                                                                    \
    } while (0)
#define OK(call) CHECK((call) == FLOWDB_OK)
#define J(s) s, strlen(s)

/* A call that must fail with `want` and say why; the error object is freed. */
#define FAILS(want, call_with_err)                                                           \
    do {                                                                                     \
        flowdb_error_t *err = NULL;                                                          \
        CHECK((call_with_err) == (want));                                                    \
        CHECK(err != NULL && flowdb_error_code(err) == (want) && flowdb_error_message(err)[0] != '\0'); \
        flowdb_error_free(err);                                                              \
    } while (0)

static flowdb_options_t *options(const char *dir) {
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    return o;
}

static flowdb_engine_t *open_engine(const char *dir) {
    flowdb_options_t *o = options(dir);
    flowdb_engine_t *e = NULL;
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    return e;
}

static flowdb_engine_t *open_engine_read_only(const char *dir) {
    flowdb_options_t *o = options(dir);
    flowdb_engine_t *e = NULL;
    OK(flowdb_engine_open_read_only(o, &e, NULL));
    flowdb_options_free(o);
    return e;
}

static void put(flowdb_engine_t *e, const char *key, int64_t ts, const char *value) {
    flowdb_record_view_t r = {(const uint8_t *)key, strlen(key), ts, FLOWDB_NEVER_EXPIRES, (const uint8_t *)value, strlen(value)};
    OK(flowdb_engine_write_batch(e, &r, 1, NULL));
}

/* Whether (key, ts) holds `value`. */
static bool has(const flowdb_engine_t *e, const char *key, int64_t ts, const char *value) {
    flowdb_records_t *l = NULL;
    if (flowdb_engine_get(e, (const uint8_t *)key, strlen(key), ts, &l, NULL) != FLOWDB_OK) return false;
    flowdb_record_view_t v;
    bool found = flowdb_records_len(l) == 1 && flowdb_records_at(l, 0, &v, NULL) == FLOWDB_OK &&
                 v.value_len == strlen(value) && memcmp(v.value, value, v.value_len) == 0;
    flowdb_records_free(l);
    return found;
}

static void path(char *out, size_t n, const char *base, const char *name) { snprintf(out, n, "%s/%s", base, name); }

/* A checkpoint and a backup while the engine is open: both open as normal databases
 * with everything written before (tables and memtable alike) and nothing after. */
static void test_checkpoint_and_backup(const char *base) {
    char src[512], cp[512], bk[512], empty[512];
    path(src, sizeof src, base, "cp-src");
    path(cp, sizeof cp, base, "cp-copy");
    path(bk, sizeof bk, base, "cp-backup");
    path(empty, sizeof empty, base, "cp-empty");
    flowdb_engine_t *e = open_engine(src);
    put(e, "cpu", 1, "flushed");
    OK(flowdb_engine_flush(e, NULL));
    put(e, "cpu", 2, "in the memtable");
    OK(flowdb_engine_checkpoint(e, cp, NULL));
    OK(flowdb_engine_backup_to(e, bk, NULL));
    put(e, "cpu", 3, "after");
    /* An existing destination, a copy or an empty directory, is refused. */
    FAILS(FLOWDB_INVALID_ARGUMENT, flowdb_engine_checkpoint(e, cp, &err));
    FAILS(FLOWDB_INVALID_ARGUMENT, flowdb_engine_backup_to(e, cp, &err));
    CHECK(mkdir(empty, 0700) == 0);
    FAILS(FLOWDB_INVALID_ARGUMENT, flowdb_engine_checkpoint(e, empty, &err));
    FAILS(FLOWDB_INVALID_ARGUMENT, flowdb_engine_checkpoint(e, NULL, &err));
    const char *copies[2] = {cp, bk};
    for (int i = 0; i < 2; i++) {
        flowdb_engine_t *c = open_engine(copies[i]); /* while the source stays open */
        CHECK(c != NULL);
        CHECK(has(c, "cpu", 1, "flushed"));
        CHECK(has(c, "cpu", 2, "in the memtable"));
        CHECK(!has(c, "cpu", 3, "after"));
        put(c, "cpu", 4, "the copy is writable"); /* and independent of the source */
        CHECK(has(c, "cpu", 4, "the copy is writable"));
        CHECK(!has(e, "cpu", 4, "the copy is writable"));
        OK(flowdb_engine_shutdown(c, NULL));
        flowdb_engine_free(c);
    }
    OK(flowdb_engine_shutdown(e, NULL));
    FAILS(FLOWDB_CLOSED, flowdb_engine_checkpoint(e, empty, &err));
    FAILS(FLOWDB_CLOSED, flowdb_engine_backup_to(e, empty, &err));
    flowdb_engine_free(e);
}

/* A read-only instance of a directory a writer of this process holds open: it takes
 * no lock, sees the database as of its open, and catch_up moves it on. */
static void test_read_only(const char *base) {
    char dir[512], missing[512], cp[512];
    path(dir, sizeof dir, base, "ro");
    path(missing, sizeof missing, base, "ro-missing");
    path(cp, sizeof cp, base, "ro-checkpoint");
    flowdb_engine_t *w = open_engine(dir);
    put(w, "k", 1, "one");
    OK(flowdb_engine_flush(w, NULL));
    put(w, "k", 2, "two"); /* in the writer's memtable and log only */
    flowdb_engine_t *r = open_engine_read_only(dir);
    CHECK(r != NULL);
    CHECK(has(r, "k", 1, "one"));
    CHECK(has(r, "k", 2, "two"));
    put(w, "k", 3, "three");
    OK(flowdb_engine_flush(w, NULL));
    put(w, "k", 4, "four");
    CHECK(!has(r, "k", 3, "three")); /* as of its open */
    OK(flowdb_engine_catch_up(r, NULL));
    CHECK(has(r, "k", 3, "three"));
    CHECK(has(r, "k", 4, "four"));
    OK(flowdb_engine_catch_up(w, NULL)); /* on the writer: nothing to do */
    /* Writes, flushes and compactions are refused; the writer is untouched. */
    flowdb_record_view_t rec = {(const uint8_t *)"k", 1, 5, FLOWDB_NEVER_EXPIRES, (const uint8_t *)"x", 1};
    FAILS(FLOWDB_READ_ONLY, flowdb_engine_write_batch(r, &rec, 1, &err));
    FAILS(FLOWDB_READ_ONLY, flowdb_engine_delete_before(r, 2, &err));
    FAILS(FLOWDB_READ_ONLY, flowdb_engine_flush(r, &err));
    FAILS(FLOWDB_READ_ONLY, flowdb_engine_trigger_compaction(r, NULL, &err));
    CHECK(!has(w, "k", 5, "x") && has(w, "k", 1, "one"));
    /* A checkpoint of a read-only instance copies what the writer has on disk: at
     * least what the instance sees (its tables and its log). */
    OK(flowdb_engine_checkpoint(r, cp, NULL));
    flowdb_engine_t *c = open_engine(cp);
    CHECK(has(c, "k", 1, "one") && has(c, "k", 3, "three") && has(c, "k", 4, "four"));
    OK(flowdb_engine_shutdown(c, NULL));
    flowdb_engine_free(c);
    /* Its background error and resume answer as a healthy engine's. */
    flowdb_error_t *bg = NULL;
    OK(flowdb_engine_background_error(r, &bg, NULL));
    CHECK(bg == NULL);
    OK(flowdb_engine_resume(r, NULL));
    /* The writer shut down (its memtable flushed): catch_up still works. */
    OK(flowdb_engine_shutdown(w, NULL));
    flowdb_engine_free(w);
    OK(flowdb_engine_catch_up(r, NULL));
    CHECK(has(r, "k", 4, "four"));
    OK(flowdb_engine_shutdown(r, NULL));
    FAILS(FLOWDB_CLOSED, flowdb_engine_catch_up(r, &err));
    flowdb_engine_free(r);
    /* Nothing there: NOT_FOUND, and nothing created. */
    flowdb_options_t *o = options(missing);
    flowdb_engine_t *none = NULL;
    FAILS(FLOWDB_NOT_FOUND, flowdb_engine_open_read_only(o, &none, &err));
    CHECK(none == NULL);
    flowdb_options_free(o);
}

static void test_health(const char *base) {
    char dir[512];
    path(dir, sizeof dir, base, "health");
    flowdb_engine_t *e = open_engine(dir);
    put(e, "a", 1, "v");
    /* No background error: *out is set to NULL (whatever it held before). */
    flowdb_error_t *bg = (flowdb_error_t *)&bg; /* not NULL: must be overwritten */
    OK(flowdb_engine_background_error(e, &bg, NULL));
    CHECK(bg == NULL);
    OK(flowdb_engine_resume(e, NULL)); /* nothing to resume: OK at once */
    OK(flowdb_engine_resume(e, NULL));
    CHECK(has(e, "a", 1, "v"));
    put(e, "a", 2, "writes go on");
    OK(flowdb_engine_shutdown(e, NULL));
    bg = NULL;
    FAILS(FLOWDB_CLOSED, flowdb_engine_background_error(e, &bg, &err));
    CHECK(bg == NULL);
    FAILS(FLOWDB_CLOSED, flowdb_engine_resume(e, &err));
    flowdb_engine_free(e);
}

/* What a listener saw, by kind. Written by the library's event thread; read by the
 * test once a removal, replacement or free has returned (each waits for the last call,
 * so the reads see every write). */
struct seen {
    int flush, compaction, stall, error, resumed, other;
    uint64_t flush_tables, flush_bytes, compaction_in, compaction_out;
    int bad_fields;                  /* a field the kind does not use was set */
    const flowdb_engine_t *engine;   /* when set: the listener calls flowdb */
    const flowdb_jsondb_t *jsondb;   /* the same, on a document database */
    int engine_calls_ok, engine_calls_closed, jsondb_calls;
    unsigned sleep_us;               /* slept before each call (0: none) */
};

static void count_event(const flowdb_event_t *ev, void *user) {
    struct seen *s = user;
    switch (ev->kind) {
    case FLOWDB_EVENT_FLUSH:
        s->flush++;
        s->flush_tables += ev->tables_out;
        s->flush_bytes += ev->bytes;
        if (ev->tables_in != 0 || ev->message != NULL || ev->stops_writes) s->bad_fields++;
        break;
    case FLOWDB_EVENT_COMPACTION:
        s->compaction++;
        s->compaction_in += ev->tables_in;
        s->compaction_out += ev->tables_out;
        if (ev->message != NULL || ev->stops_writes) s->bad_fields++;
        break;
    case FLOWDB_EVENT_STALL: s->stall++; break;
    case FLOWDB_EVENT_ERROR: s->error++; break;
    case FLOWDB_EVENT_RESUMED: s->resumed++; break;
    default: s->other++; break;
    }
    if (s->engine != NULL) {
        /* A listener may call flowdb: it runs on the library's thread, not under a
         * lock of the work that reported. */
        flowdb_stats_t st;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        if (s->sleep_us) usleep(s->sleep_us);
        flowdb_status_t rc = flowdb_engine_stats(s->engine, &st, NULL);
        if (rc == FLOWDB_OK) s->engine_calls_ok++;
        if (rc == FLOWDB_CLOSED) s->engine_calls_closed++;
    }
    if (s->jsondb != NULL) {
        flowdb_stats_t st;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        flowdb_status_t rc = flowdb_jsondb_engine_stats(s->jsondb, &st, NULL);
        if (rc == FLOWDB_OK || rc == FLOWDB_CLOSED) s->jsondb_calls++;
        /* Shutting down from inside a callback would wait for itself: refused. */
        if (flowdb_jsondb_shutdown(s->jsondb, NULL) != FLOWDB_BUSY) s->bad_fields++;
    }
}

/* Two tables flushed, then merged: two FLUSH events and a COMPACTION of both. */
static void flush_twice_and_compact(flowdb_engine_t *e, int64_t ts) {
    put(e, "m", ts, "a");
    OK(flowdb_engine_flush(e, NULL));
    put(e, "m", ts + 1, "b");
    OK(flowdb_engine_flush(e, NULL));
    bool compacted = false;
    OK(flowdb_engine_trigger_compaction(e, &compacted, NULL));
    CHECK(compacted);
}

static void test_event_listener(const char *base) {
    char dir[512], dir2[512];
    path(dir, sizeof dir, base, "events");
    path(dir2, sizeof dir2, base, "events-free");
    flowdb_engine_t *e = open_engine(dir);
    {
        struct seen s;
        memset(&s, 0, sizeof s);
        s.engine = e;
        OK(flowdb_engine_set_event_listener(e, count_event, &s, NULL));
        flush_twice_and_compact(e, 1);
        OK(flowdb_engine_set_event_listener(e, NULL, NULL, NULL)); /* waits for the last call */
        CHECK(s.flush == 2 && s.flush_tables == 2 && s.flush_bytes > 0);
        CHECK(s.compaction == 1 && s.compaction_in == 2 && s.compaction_out >= 1);
        CHECK(s.stall == 0 && s.error == 0 && s.resumed == 0 && s.other == 0 && s.bad_fields == 0);
        CHECK(s.engine_calls_ok == 3);
        /* Removed: nothing more, though flushes and merges go on. */
        struct seen before = s;
        flush_twice_and_compact(e, 10);
        OK(flowdb_engine_set_event_listener(e, NULL, NULL, NULL)); /* removing twice is fine */
        CHECK(memcmp(&before, &s, sizeof s) == 0);
    } /* `s` goes out of scope only after its listener was removed */
    {
        /* Replacing a listener waits for the old one's last call too. */
        struct seen a, b;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        OK(flowdb_engine_set_event_listener(e, count_event, &a, NULL));
        put(e, "r", 1, "x");
        OK(flowdb_engine_flush(e, NULL));
        OK(flowdb_engine_set_event_listener(e, count_event, &b, NULL));
        CHECK(a.flush == 1 && b.flush == 0);
        put(e, "r", 2, "y");
        OK(flowdb_engine_flush(e, NULL));
        OK(flowdb_engine_set_event_listener(e, NULL, NULL, NULL));
        CHECK(a.flush == 1 && b.flush == 1);
    }
    {
        /* Shutdown delivers what was queued and removes the listener. */
        struct seen s;
        memset(&s, 0, sizeof s);
        OK(flowdb_engine_set_event_listener(e, count_event, &s, NULL));
        put(e, "s", 1, "x"); /* flushed by the shutdown */
        OK(flowdb_engine_shutdown(e, NULL));
        CHECK(s.flush == 1);
        FAILS(FLOWDB_CLOSED, flowdb_engine_set_event_listener(e, count_event, &s, &err));
        flowdb_engine_free(e);
        CHECK(s.flush == 1);
    }
    /* flowdb_engine_free (no shutdown) waits for the listener's last call: the user
     * data can be freed right after it (ASan and valgrind would see a late call). */
    flowdb_engine_t *f = open_engine(dir2);
    struct seen *heap = calloc(1, sizeof *heap);
    OK(flowdb_engine_set_event_listener(f, count_event, heap, NULL));
    flush_twice_and_compact(f, 1);
    flowdb_engine_free(f);
    CHECK(heap->flush == 2 && heap->compaction == 1);
    free(heap);

    /* A listener calling the handle while flowdb_engine_free runs finds it closed:
     * the engine is taken out of the handle before it is dropped (the listener's
     * calls used to reach an engine being dropped). Each call sleeps first, so the
     * queued events are delivered while free waits for them. */
    char dir3[512];
    path(dir3, sizeof dir3, base, "events-free-calls");
    flowdb_engine_t *g = open_engine(dir3);
    struct seen *slow = calloc(1, sizeof *slow);
    slow->engine = g;
    slow->sleep_us = 200000;
    OK(flowdb_engine_set_event_listener(g, count_event, slow, NULL));
    flush_twice_and_compact(g, 1);
    flowdb_engine_free(g);
    CHECK(slow->flush == 2 && slow->compaction == 1);
    /* (The first call may come before free, on a slow machine.) */
    CHECK(slow->engine_calls_closed >= 2 && slow->engine_calls_ok + slow->engine_calls_closed == 3);
    free(slow);
}

/* flowdb_jsondb_from_engine removes the engine's listener: its user data belongs
 * with the engine handle and may be freed with it (it used to go on being called on
 * the database's flushes: a use after free). A listener is set on the database. */
static void test_listener_and_from_engine(const char *base) {
    char dir[512];
    path(dir, sizeof dir, base, "events-into-docs");
    flowdb_engine_t *e = open_engine(dir);
    struct seen *heap = calloc(1, sizeof *heap);
    OK(flowdb_engine_set_event_listener(e, count_event, heap, NULL));
    put(e, "m", 1, "a");
    OK(flowdb_engine_flush(e, NULL));
    flowdb_jsondb_t *db = NULL;
    OK(flowdb_jsondb_from_engine(e, &db, NULL));
    CHECK(heap->flush == 1);
    flowdb_engine_free(e);
    free(heap);
    struct seen s;
    memset(&s, 0, sizeof s);
    OK(flowdb_jsondb_create_object_store(db, "users", "id", NULL));
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":1}"), NULL, NULL));
    OK(flowdb_jsondb_engine_flush(db, NULL)); /* no call on the freed user data */
    OK(flowdb_jsondb_set_event_listener(db, count_event, &s, NULL));
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":2}"), NULL, NULL));
    OK(flowdb_jsondb_engine_flush(db, NULL));
    flowdb_jsondb_free(db); /* removes the listener first */
    CHECK(s.flush == 1);
}

/* The document database's forms of every call above. */
static void test_jsondb(const char *base) {
    char dir[512], cp[512], bk[512], dir2[512];
    path(dir, sizeof dir, base, "docs");
    path(cp, sizeof cp, base, "docs-copy");
    path(bk, sizeof bk, base, "docs-backup");
    path(dir2, sizeof dir2, base, "docs-free");
    flowdb_options_t *o = options(dir);
    flowdb_jsondb_t *db = NULL;
    OK(flowdb_jsondb_open(o, &db, NULL));
    OK(flowdb_jsondb_create_object_store(db, "users", "id", NULL));
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":1,\"name\":\"ada\"}"), NULL, NULL));

    /* Checkpoint and backup: the copies open with the store and its documents. */
    OK(flowdb_jsondb_checkpoint(db, cp, NULL));
    OK(flowdb_jsondb_backup_to(db, bk, NULL));
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":2,\"name\":\"bob\"}"), NULL, NULL));
    FAILS(FLOWDB_INVALID_ARGUMENT, flowdb_jsondb_checkpoint(db, cp, &err));
    FAILS(FLOWDB_INVALID_ARGUMENT, flowdb_jsondb_backup_to(db, bk, &err));
    const char *copies[2] = {cp, bk};
    for (int i = 0; i < 2; i++) {
        flowdb_options_t *co = options(copies[i]);
        flowdb_jsondb_t *c = NULL;
        OK(flowdb_jsondb_open(co, &c, NULL));
        char *doc = NULL;
        OK(flowdb_jsondb_get(c, "users", J("1"), &doc, NULL));
        CHECK(doc != NULL && strstr(doc, "ada") != NULL);
        flowdb_string_free(doc);
        doc = NULL;
        OK(flowdb_jsondb_get(c, "users", J("2"), &doc, NULL));
        CHECK(doc == NULL); /* written after the copy */
        OK(flowdb_jsondb_shutdown(c, NULL));
        flowdb_jsondb_free(c);
        flowdb_options_free(co);
    }

    /* Read-only, while `db` writes. */
    flowdb_jsondb_t *r = NULL;
    OK(flowdb_jsondb_open_read_only(o, &r, NULL));
    size_t n = 0;
    OK(flowdb_jsondb_count(r, "users", &n, NULL));
    CHECK(n == 2);
    FAILS(FLOWDB_READ_ONLY, flowdb_jsondb_put(r, "users", J("{\"id\":9}"), NULL, &err));
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":3,\"name\":\"cy\"}"), NULL, NULL));
    OK(flowdb_jsondb_create_object_store(db, "later", "id", NULL));
    OK(flowdb_jsondb_count(r, "users", &n, NULL));
    CHECK(n == 2);
    OK(flowdb_jsondb_catch_up(r, NULL));
    OK(flowdb_jsondb_count(r, "users", &n, NULL));
    CHECK(n == 3);
    char *names = NULL;
    OK(flowdb_jsondb_store_names(r, &names, NULL)); /* the schema caught up too */
    CHECK(names != NULL && strstr(names, "later") != NULL);
    flowdb_string_free(names);
    OK(flowdb_jsondb_shutdown(r, NULL));
    flowdb_jsondb_free(r);

    /* Background error and resume. */
    flowdb_error_t *bg = NULL;
    OK(flowdb_jsondb_background_error(db, &bg, NULL));
    CHECK(bg == NULL);
    OK(flowdb_jsondb_resume(db, NULL));

    /* A listener on the database's engine. */
    struct seen s;
    memset(&s, 0, sizeof s);
    OK(flowdb_jsondb_set_event_listener(db, count_event, &s, NULL));
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":4}"), NULL, NULL));
    OK(flowdb_jsondb_engine_flush(db, NULL));
    OK(flowdb_jsondb_set_event_listener(db, NULL, NULL, NULL));
    CHECK(s.flush == 1 && s.flush_tables >= 1 && s.bad_fields == 0);
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":5}"), NULL, NULL));
    OK(flowdb_jsondb_engine_flush(db, NULL));
    CHECK(s.flush == 1);
    /* A listener that calls flowdb with the database while it shuts down: the
     * shutdown waits for the listener without holding the handle (it once held it,
     * and both hung), and the listener's call gets OK or CLOSED. */
    struct seen calls;
    memset(&calls, 0, sizeof calls);
    calls.jsondb = db;
    OK(flowdb_jsondb_set_event_listener(db, count_event, &calls, NULL));
    OK(flowdb_jsondb_put(db, "users", J("{\"id\":6}"), NULL, NULL));
    OK(flowdb_jsondb_shutdown(db, NULL)); /* flushes: one more event */
    CHECK(calls.flush == 1 && calls.jsondb_calls == 1 && calls.bad_fields == 0);
    FAILS(FLOWDB_CLOSED, flowdb_jsondb_checkpoint(db, cp, &err));
    FAILS(FLOWDB_CLOSED, flowdb_jsondb_catch_up(db, &err));
    FAILS(FLOWDB_CLOSED, flowdb_jsondb_resume(db, &err));
    FAILS(FLOWDB_CLOSED, flowdb_jsondb_background_error(db, &bg, &err));
    FAILS(FLOWDB_CLOSED, flowdb_jsondb_set_event_listener(db, count_event, &s, &err));
    flowdb_jsondb_free(db);
    flowdb_options_free(o);

    /* flowdb_jsondb_free removes the listener (waiting for its last call) even while
     * a transaction keeps the database alive. */
    o = options(dir2);
    OK(flowdb_jsondb_open(o, &db, NULL));
    OK(flowdb_jsondb_create_object_store(db, "s", "id", NULL));
    struct seen *heap = calloc(1, sizeof *heap);
    OK(flowdb_jsondb_set_event_listener(db, count_event, heap, NULL));
    OK(flowdb_jsondb_put(db, "s", J("{\"id\":1}"), NULL, NULL));
    OK(flowdb_jsondb_engine_flush(db, NULL));
    const char *stores[1] = {"s"};
    flowdb_txn_t *t = NULL;
    OK(flowdb_jsondb_transaction(db, stores, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    flowdb_jsondb_free(db);
    CHECK(heap->flush == 1);
    free(heap);
    OK(flowdb_txn_put(t, "s", J("{\"id\":2}"), NULL, NULL)); /* the database lives on */
    OK(flowdb_txn_commit(t, NULL));
    flowdb_txn_free(t);
    flowdb_options_free(o);
}

/* Range reads over three runs of one window pay for their merge (docs/design.md,
 * "Merges for reads"): once they have charged the runs' bytes / 64, run_compactions
 * merges them and the stats count it; every record reads back. */
static void test_read_merges(const char *base) {
    char dir[512];
    path(dir, sizeof dir, base, "read-merges");
    flowdb_engine_t *e = open_engine(dir);
    const char *keys[4] = {"cpu.a", "cpu.b", "cpu.c", "cpu.d"};
    for (int f = 0; f < 3; f++) {
        for (int k = 0; k < 4; k++) put(e, keys[k], f + 1, "a value of some sixty-four bytes, written three times per key..");
        OK(flowdb_engine_flush(e, NULL));
    }
    flowdb_stats_t s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    OK(flowdb_engine_stats(e, &s, NULL));
    uint64_t due = s.sstable_bytes / 64;
    for (uint64_t i = 0; i * 2 < due + 2; i++) { /* each query merges three runs: two charges */
        flowdb_records_t *l = NULL;
        OK(flowdb_engine_query_by_prefix(e, (const uint8_t *)"cpu.", 4, &l, NULL));
        CHECK(flowdb_records_len(l) == 12);
        flowdb_records_free(l);
    }
    uint64_t steps = 0;
    OK(flowdb_engine_run_compactions(e, &steps, NULL));
    CHECK(steps == 1);
    OK(flowdb_engine_stats(e, &s, NULL));
    CHECK(s.total_read_merges == 1 && s.sstable_count == 1);
    for (int k = 0; k < 4; k++) CHECK(has(e, keys[k], 2, "a value of some sixty-four bytes, written three times per key.."));
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

int main(void) {
    char base[] = "/tmp/flowdb-c-operations-XXXXXX";
    if (!mkdtemp(base)) return 2;
    test_checkpoint_and_backup(base);
    test_read_only(base);
    test_health(base);
    test_event_listener(base);
    test_listener_and_from_engine(base);
    test_jsondb(base);
    test_read_merges(base);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
