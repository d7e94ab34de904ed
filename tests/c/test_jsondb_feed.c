/* C tests of the JsonDB change feed: subscriptions polled with
 * flowdb_subscription_next (puts, deletes, clears, a transaction's changes sharing a
 * sequence number, store and key-range filters, timeouts and "none yet"),
 * subscribe_since (the logged changes first), changes_since as JSON,
 * last_change_seq, start_seq and the change retention (expired changes are NOT_FOUND).
 * Misuse: unknown stores, no store, NULL arguments, and subscriptions outliving their
 * database (shut down, or freed while a transaction keeps it alive): they deliver
 * what was committed, then answer CLOSED, never touching freed memory. Built with
 * -Wall -Wextra -Werror; run by ctest (plainly, under ASan + UBSan and under
 * valgrind). */
#define _DEFAULT_SOURCE
#include "check.h"

#include <time.h>

/* The next change of `sub` as "seq-less" text: "kind store key", or "none" when none
 * came within `ms`, "closed" at CLOSED; its sequence number in *seq (may be NULL). */
static const char *next_change(flowdb_subscription_t *sub, uint64_t ms, uint64_t *seq) {
    static char text[256];
    static const char *kinds[] = {"put", "delete", "clear"};
    flowdb_change_t c;
    bool has = false;
    flowdb_status_t st = flowdb_subscription_next(sub, ms, &c, &has, NULL);
    if (st == FLOWDB_CLOSED) return "closed";
    if (st != FLOWDB_OK) return "error";
    if (!has) return "none";
    CHECK(strlen(c.store) == c.store_len && strlen(c.key) == c.key_len);
    if (seq) *seq = c.seq;
    snprintf(text, sizeof text, "%s %s %s", kinds[c.kind], c.store, c.key);
    return text;
}
#define NEXT_IS(sub, want) CHECK(strcmp(next_change(sub, 0, NULL), want) == 0)

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *both[2] = {"a", "b"};

static void live(flowdb_jsondb_t *db) {
    flowdb_subscription_t *sa = NULL, *sab = NULL, *sr = NULL;
    uint64_t start = 0, last = 0, seq1 = 0, seq2 = 0;
    OK(flowdb_jsondb_last_change_seq(db, &last, NULL));
    CHECK(last == 0);
    OK(flowdb_jsondb_subscribe(db, both, 1, NULL, &sa, NULL));
    OK(flowdb_jsondb_subscribe(db, both, 2, NULL, &sab, NULL));
    flowdb_key_range_t *r = NULL;
    OK(flowdb_key_range_bound(J("2"), J("3"), false, false, &r, NULL));
    OK(flowdb_jsondb_subscribe(db, both, 1, r, &sr, NULL));
    flowdb_key_range_free(r); /* the subscription keeps its own copy */
    OK(flowdb_subscription_start_seq(sa, &start, NULL));
    CHECK(start == 0);

    /* Nothing yet: "none" at once, and after the timeout. */
    NEXT_IS(sa, "none");
    double t0 = now_ms();
    CHECK(strcmp(next_change(sa, 30, NULL), "none") == 0);
    CHECK(now_ms() - t0 >= 25);

    OK(flowdb_jsondb_put(db, "a", J("{\"id\":1}"), NULL, NULL));
    OK(flowdb_jsondb_put(db, "b", J("{\"id\":\"x\"}"), NULL, NULL));
    OK(flowdb_jsondb_put(db, "a", J("{\"id\":2}"), NULL, NULL));
    OK(flowdb_jsondb_delete(db, "a", J("1"), NULL));
    OK(flowdb_jsondb_clear(db, "b", NULL));
    /* A change waiting is handed out at once, whatever the timeout. */
    t0 = now_ms();
    CHECK(strcmp(next_change(sa, 60000, &seq1), "put a 1") == 0);
    CHECK(now_ms() - t0 < 5000);
    NEXT_IS(sa, "put a 2");
    NEXT_IS(sa, "delete a 1");
    NEXT_IS(sa, "none");
    NEXT_IS(sab, "put a 1");
    NEXT_IS(sab, "put b \"x\"");
    NEXT_IS(sab, "put a 2");
    NEXT_IS(sab, "delete a 1");
    NEXT_IS(sab, "clear b null");
    NEXT_IS(sab, "none");
    NEXT_IS(sr, "put a 2"); /* the range: key 2 only */
    NEXT_IS(sr, "none");

    /* One transaction: one sequence number, its changes by store and key. */
    const char *scope[2] = {"a", "b"};
    flowdb_txn_t *t = NULL;
    OK(flowdb_jsondb_transaction(db, scope, 2, FLOWDB_READ_WRITE_TXN, &t, NULL));
    OK(flowdb_txn_put(t, "b", J("{\"id\":\"y\"}"), NULL, NULL));
    OK(flowdb_txn_put(t, "a", J("{\"id\":3}"), NULL, NULL));
    OK(flowdb_txn_delete(t, "a", J("2"), NULL));
    OK(flowdb_txn_commit(t, NULL));
    flowdb_txn_free(t);
    CHECK(strcmp(next_change(sab, 0, &seq1), "delete a 2") == 0);
    CHECK(strcmp(next_change(sab, 0, &seq2), "put a 3") == 0);
    CHECK(seq1 == seq2);
    CHECK(strcmp(next_change(sab, 0, &seq2), "put b \"y\"") == 0);
    CHECK(seq1 == seq2);
    OK(flowdb_jsondb_last_change_seq(db, &last, NULL));
    CHECK(last == seq1);
    NEXT_IS(sr, "delete a 2");
    NEXT_IS(sr, "put a 3");
    flowdb_subscription_free(sr);
    flowdb_subscription_free(sa);
    flowdb_subscription_free(sab);
    flowdb_subscription_free(NULL);

    /* start_seq of a later subscription. */
    OK(flowdb_jsondb_subscribe(db, both, 1, NULL, &sa, NULL));
    OK(flowdb_subscription_start_seq(sa, &start, NULL));
    CHECK(start == last);
    flowdb_subscription_free(sa);

    /* Errors, no output written. */
    sa = NULL;
    flowdb_error_t *err = NULL;
    const char *nope[1] = {"nope"};
    CHECK(flowdb_jsondb_subscribe(db, nope, 1, NULL, &sa, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_subscribe(db, both, 0, NULL, &sa, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "at least one store") != NULL);
    flowdb_error_free(err);
    CHECK(flowdb_jsondb_subscribe(db, NULL, 1, NULL, &sa, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_jsondb_subscribe_since(db, 0, nope, 1, NULL, &sa, NULL) == FLOWDB_NOT_FOUND);
    CHECK(flowdb_jsondb_subscribe(db, both, 1, NULL, NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(sa == NULL);
}

static void logged(flowdb_jsondb_t *db) {
    char *s = NULL;
    uint64_t last = 0, seq = 0;
    /* The whole log as JSON, in commit order. */
    OK(flowdb_jsondb_changes_since(db, 0, &s, NULL));
    CHECK(s && strncmp(s, "[{\"seq\":", 8) == 0);
    CHECK(s && strstr(s, "\"store\":\"a\",\"key\":1,\"kind\":\"put\"}") != NULL);
    CHECK(s && strstr(s, "\"store\":\"b\",\"key\":null,\"kind\":\"clear\"}") != NULL);
    CHECK(s && strstr(s, "\"store\":\"a\",\"key\":1,\"kind\":\"delete\"}") != NULL);
    flowdb_string_free(s);
    OK(flowdb_jsondb_last_change_seq(db, &last, NULL));
    OK(flowdb_jsondb_changes_since(db, last, &s, NULL));
    CHECK(eq_free(s, "[]"));

    /* subscribe_since: the logged changes after `last`, then the live ones. */
    OK(flowdb_jsondb_put(db, "a", J("{\"id\":10}"), NULL, NULL));
    flowdb_subscription_t *sub = NULL;
    OK(flowdb_jsondb_subscribe_since(db, last, both, 2, NULL, &sub, NULL));
    OK(flowdb_jsondb_put(db, "b", J("{\"id\":11}"), NULL, NULL));
    CHECK(strcmp(next_change(sub, 0, &seq), "put a 10") == 0);
    CHECK(seq > last);
    NEXT_IS(sub, "put b 11");
    NEXT_IS(sub, "none");
    flowdb_subscription_free(sub);
    char want[128];
    snprintf(want, sizeof want, "[{\"seq\":%llu,\"store\":\"a\",\"key\":10,\"kind\":\"put\"},", (unsigned long long)seq);
    OK(flowdb_jsondb_changes_since(db, last, &s, NULL));
    CHECK(s && strncmp(s, want, strlen(want)) == 0);
    flowdb_string_free(s);

    /* A retention of 1 ms: changes expire; resuming before them is NOT_FOUND. */
    OK(flowdb_jsondb_last_change_seq(db, &last, NULL));
    OK(flowdb_jsondb_set_change_retention_ms(db, 1, NULL));
    OK(flowdb_jsondb_put(db, "a", J("{\"id\":12}"), NULL, NULL));
    usleep(20 * 1000);
    OK(flowdb_jsondb_set_change_retention_ms(db, 3600 * 1000, NULL));
    OK(flowdb_jsondb_put(db, "a", J("{\"id\":13}"), NULL, NULL));
    flowdb_error_t *err = NULL;
    s = NULL;
    CHECK(flowdb_jsondb_changes_since(db, last, &s, &err) == FLOWDB_NOT_FOUND);
    CHECK(err && strstr(flowdb_error_message(err), "no longer") != NULL);
    flowdb_error_free(err);
    CHECK(s == NULL);
    sub = NULL;
    CHECK(flowdb_jsondb_subscribe_since(db, last, both, 1, NULL, &sub, NULL) == FLOWDB_NOT_FOUND);
    CHECK(sub == NULL);
    CHECK(flowdb_jsondb_changes_since(db, 0, NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
}

/* Subscriptions outliving their database: they deliver what it committed, then
 * answer CLOSED for good; freed after the database. */
static void outliving(const char *base) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/outliving", base);
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    flowdb_jsondb_t *db = NULL;
    OK(flowdb_jsondb_open(o, &db, NULL));
    OK(flowdb_jsondb_create_object_store(db, "a", "id", NULL));
    flowdb_subscription_t *sub = NULL, *waiting = NULL;
    OK(flowdb_jsondb_subscribe(db, both, 1, NULL, &sub, NULL));
    OK(flowdb_jsondb_subscribe(db, both, 1, NULL, &waiting, NULL));
    OK(flowdb_jsondb_put(db, "a", J("{\"id\":1}"), NULL, NULL));
    OK(flowdb_jsondb_shutdown(db, NULL)); /* subscriptions do not hold it: not BUSY */
    flowdb_jsondb_free(db);
    NEXT_IS(sub, "put a 1");
    NEXT_IS(sub, "closed");
    CHECK(strcmp(next_change(sub, 1000, NULL), "closed") == 0);
    uint64_t start = 77;
    OK(flowdb_subscription_start_seq(sub, &start, NULL));
    CHECK(start == 0);
    /* A long wait ends at once: no change can come. */
    double t0 = now_ms();
    CHECK(strcmp(next_change(waiting, 60000, NULL), "put a 1") == 0);
    CHECK(strcmp(next_change(waiting, 60000, NULL), "closed") == 0);
    CHECK(now_ms() - t0 < 5000);
    flowdb_subscription_free(sub);
    flowdb_subscription_free(waiting);

    /* Freed while a transaction keeps the database alive: open until that goes. */
    OK(flowdb_jsondb_open(o, &db, NULL));
    OK(flowdb_jsondb_subscribe(db, both, 1, NULL, &sub, NULL));
    flowdb_txn_t *t = NULL;
    OK(flowdb_jsondb_transaction(db, both, 1, FLOWDB_READ_WRITE_TXN, &t, NULL));
    flowdb_jsondb_free(db);
    OK(flowdb_txn_put(t, "a", J("{\"id\":2}"), NULL, NULL));
    NEXT_IS(sub, "none");
    OK(flowdb_txn_commit(t, NULL));
    NEXT_IS(sub, "put a 2");
    NEXT_IS(sub, "none");
    flowdb_txn_free(t); /* the last reference: the database goes */
    NEXT_IS(sub, "closed");
    flowdb_subscription_free(sub);
    flowdb_options_free(o);
}

int main(void) {
    char base[] = "/tmp/flowdb-c-feed-XXXXXX";
    flowdb_options_t *o = NULL;
    flowdb_jsondb_t *db = open_db(base, &o);
    if (!db) return 2;
    OK(flowdb_jsondb_create_object_store(db, "a", "id", NULL));
    OK(flowdb_jsondb_create_object_store(db, "b", "id", NULL));
    live(db);
    logged(db);
    OK(flowdb_jsondb_shutdown(db, NULL));
    flowdb_jsondb_free(db);
    flowdb_options_free(o);
    outliving(base);
    return finish(base);
}
