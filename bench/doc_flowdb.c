/* Document backend: flowdb's JsonDB through flowdb.h, with the store and indexes of
 * jsondb-bench (IntervalMs(1000), or Always in synced mode). */
#include "bench.h"
#include "flowdb_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

struct doc_store {
    flowdb_jsondb_t *db;
};

static const char SCHEMA[] = "{\"name\":\"users\",\"keyPath\":\"id\",\"indexes\":["
                             "{\"name\":\"email\",\"keyPath\":\"email\",\"unique\":true},"
                             "{\"name\":\"age\",\"keyPath\":\"age\"},"
                             "{\"name\":\"city_age\",\"keyPath\":[\"city\",\"age\"]},"
                             "{\"name\":\"tags\",\"keyPath\":\"tags\",\"multiEntry\":true}]}";

static doc_store *f_open(const char *dir, int synced) {
    flowdb_options_t *o = fl_options(dir, synced, 128);
    flowdb_error_t *err = NULL;
    doc_store *s = calloc(1, sizeof *s);
    fl_check(flowdb_jsondb_open(o, &s->db, &err), err, "open");
    flowdb_options_free(o);
    fl_check(flowdb_jsondb_create_store(s->db, SCHEMA, strlen(SCHEMA), &err), err, "create_store");
    return s;
}

static void f_close(doc_store *s) {
    flowdb_error_t *err = NULL;
    /* For experiments: FLOWDB_METRICS=1 prints the memory gauges at the end. */
    if (getenv("FLOWDB_METRICS")) {
        char *text = NULL;
        fl_check(flowdb_jsondb_engine_metrics_text(s->db, &text, &err), err, "metrics");
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
            if (strstr(line, "_bytes ") && line[0] != '#') fprintf(stderr, "%s\n", line);
        flowdb_string_free(text);
        malloc_stats();
    }
    fl_check(flowdb_jsondb_shutdown(s->db, &err), err, "shutdown");
    flowdb_jsondb_free(s->db);
    free(s);
}

static void f_put_batch(doc_store *s, char *const *docs, const size_t *lens, const int64_t *ids, size_t n) {
    (void)ids;
    const char *scope[1] = {"users"};
    flowdb_txn_t *t = NULL;
    flowdb_error_t *err = NULL;
    fl_check(flowdb_jsondb_transaction(s->db, scope, 1, FLOWDB_READ_WRITE_TXN, &t, &err), err, "transaction");
    for (size_t i = 0; i < n; i++) fl_check(flowdb_txn_put(t, "users", docs[i], lens[i], NULL, &err), err, "put");
    fl_check(flowdb_txn_commit(t, &err), err, "commit");
    flowdb_txn_free(t);
}

static void take(char *json, tally *t) {
    if (json) tally_docs(t, json, strlen(json));
    flowdb_string_free(json);
}

static void f_get(doc_store *s, int64_t id, tally *t) {
    char key[24], *out = NULL;
    int n = snprintf(key, sizeof key, "%lld", (long long)id);
    flowdb_error_t *err = NULL;
    fl_check(flowdb_jsondb_get(s->db, "users", key, (size_t)n, &out, &err), err, "get");
    take(out, t);
}

static void f_by_email(doc_store *s, const char *email, tally *t) {
    char key[96], *out = NULL;
    int n = snprintf(key, sizeof key, "\"%s\"", email);
    flowdb_error_t *err = NULL;
    fl_check(flowdb_jsondb_get_by_index(s->db, "users", "email", key, (size_t)n, &out, &err), err, "get_by_index");
    take(out, t);
}

static void collect(doc_store *s, flowdb_query_t *q, size_t limit, tally *t) {
    char *out = NULL;
    flowdb_error_t *err = NULL;
    fl_check(flowdb_query_limit(q, limit, &err), err, "limit");
    fl_check(flowdb_query_collect(s->db, q, &out, &err), err, "query");
    flowdb_query_free(q);
    take(out, t);
}

static void f_age_range(doc_store *s, int lo, int hi, size_t limit, tally *t) {
    char a[16], b[16];
    int al = snprintf(a, sizeof a, "%d", lo), bl = snprintf(b, sizeof b, "%d", hi);
    flowdb_query_t *q = flowdb_query_new("users");
    flowdb_error_t *err = NULL;
    fl_check(flowdb_query_where_range(q, "age", a, (size_t)al, b, (size_t)bl, &err), err, "where_range");
    collect(s, q, limit, t);
}

static void f_city_by_age(doc_store *s, const char *city, size_t limit, tally *t) {
    char c[64];
    int cl = snprintf(c, sizeof c, "\"%s\"", city);
    flowdb_query_t *q = flowdb_query_new("users");
    flowdb_error_t *err = NULL;
    fl_check(flowdb_query_where_eq(q, "city", c, (size_t)cl, &err), err, "where_eq");
    fl_check(flowdb_query_order_by(q, "age", false, &err), err, "order_by");
    collect(s, q, limit, t);
}

/* Each id handed over typed (a double), as SQLite's side reads an integer column. */
static bool tally_key(const flowdb_key_view_t *key, void *user) {
    tally_id(user, (int64_t)key->number);
    return true;
}

static void f_age_keys(doc_store *s, int lo, int hi, tally *t) {
    char a[16], b[16];
    int al = snprintf(a, sizeof a, "%d", lo), bl = snprintf(b, sizeof b, "%d", hi);
    flowdb_key_range_t *r = NULL;
    flowdb_error_t *err = NULL;
    fl_check(flowdb_key_range_bound(a, (size_t)al, b, (size_t)bl, false, false, &r, &err), err, "range");
    fl_check(flowdb_jsondb_get_all_keys_visit(s->db, "users", "age", r, 0, tally_key, t, NULL, &err), err,
             "get_all_keys_visit");
    flowdb_key_range_free(r);
}

static void f_each_doc(doc_store *s, tally *t) {
    flowdb_key_range_t *all = flowdb_key_range_all();
    flowdb_cursor_t *c = NULL;
    flowdb_error_t *err = NULL;
    fl_check(flowdb_jsondb_open_cursor(s->db, "users", NULL, all, FLOWDB_NEXT, false, &c, &err), err, "cursor");
    flowdb_key_range_free(all);
    /* Each document lent where it lies, as SQLite's side reads its text. */
    for (bool on = true; on;) {
        const char *doc = NULL;
        size_t len = 0;
        fl_check(flowdb_cursor_value_view(c, &doc, &len, &err), err, "cursor value");
        if (!doc) break;
        tally_docs(t, doc, len);
        fl_check(flowdb_cursor_continue(c, &on, &err), err, "continue");
    }
    flowdb_cursor_free(c);
}

const doc_backend flowdb_docs = {"flowdb",      f_open,        f_close,    f_put_batch, f_get, f_by_email,
                                 f_age_range,   f_city_by_age, f_age_keys, f_each_doc};
