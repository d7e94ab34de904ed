/* Time-series backend: flowdb through flowdb.h, configured as flowdb-bench runs it
 * (IntervalMs(1000) or Always; the given block cache; everything else default). */
#include "bench.h"
#include "flowdb_util.h"

#include <stdint.h>
#include <stdlib.h>

struct ts_store {
    flowdb_engine_t *e;
};

static ts_store *f_open(const char *dir, int synced, size_t cache_mb) {
    flowdb_options_t *o = fl_options(dir, synced, cache_mb);
    flowdb_error_t *err = NULL;
    ts_store *s = calloc(1, sizeof *s);
    fl_check(flowdb_engine_open(o, &s->e, &err), err, "open");
    flowdb_options_free(o);
    return s;
}

static void f_close(ts_store *s) {
    flowdb_error_t *err = NULL;
    fl_check(flowdb_engine_shutdown(s->e, &err), err, "shutdown");
    flowdb_engine_free(s->e);
    free(s);
}

static void f_write(ts_store *s, const ts_rec *recs, size_t n) {
    flowdb_record_view_t v[256];
    if (n > 256) die("flowdb", "write", "batch larger than 256");
    for (size_t i = 0; i < n; i++)
        v[i] = (flowdb_record_view_t){(const uint8_t *)recs[i].key, recs[i].key_len, recs[i].ts,
                                      INT64_MAX, recs[i].value, recs[i].value_len};
    flowdb_error_t *err = NULL;
    fl_check(flowdb_engine_write_batch(s->e, v, n, &err), err, "write_batch");
}

static void f_settle(ts_store *s) {
    flowdb_error_t *err = NULL;
    fl_check(flowdb_engine_flush(s->e, &err), err, "flush");
    fl_check(flowdb_engine_trigger_compaction(s->e, NULL, &err), err, "compaction");
}

static void tally_list(flowdb_records_t *list, tally *t, int latest) {
    size_t n = flowdb_records_len(list);
    for (size_t i = 0; i < n; i++) {
        flowdb_record_view_t r;
        flowdb_records_at(list, i, &r, NULL);
        if (latest) {
            t->count++;
            t->sum += (uint64_t)r.ts;
        } else {
            tally_value(t, r.value, r.value_len);
        }
    }
    flowdb_records_free(list);
}

static void f_get(ts_store *s, const char *key, size_t klen, int64_t ts, tally *t) {
    flowdb_records_t *list = NULL;
    flowdb_error_t *err = NULL;
    fl_check(flowdb_engine_get(s->e, (const uint8_t *)key, klen, ts, &list, &err), err, "get");
    tally_list(list, t, 0);
}

static void f_latest(ts_store *s, const char *key, size_t klen, tally *t) {
    flowdb_records_t *list = NULL;
    flowdb_error_t *err = NULL;
    fl_check(flowdb_engine_get_latest(s->e, (const uint8_t *)key, klen, &list, &err), err, "get_latest");
    tally_list(list, t, 1);
}

static bool tally_lent(int64_t ts, const uint8_t *value, size_t value_len, void *user) {
    (void)ts;
    tally_value(user, value, value_len);
    return true;
}

/* last_n as a C reader that only looks at the values writes it: each value lent to a
 * callback where it lies, no list built (RocksDB's and SQLite's sides read theirs in
 * place too). The copying form: flowdb_engine_last_n(..., &list, &err), then
 * tally_list(list, t, 0). */
static void f_last_n(ts_store *s, const char *key, size_t klen, size_t n, tally *t) {
    flowdb_error_t *err = NULL;
    fl_check(flowdb_engine_last_n_visit(s->e, (const uint8_t *)key, klen, n, tally_lent, t, NULL, &err), err,
             "last_n_visit");
}

static void drain(flowdb_iter_t *it, tally *t) {
    bool has = false;
    flowdb_error_t *err = NULL;
    for (;;) {
        fl_check(flowdb_iter_next(it, &has, &err), err, "scan");
        if (!has) break;
        flowdb_record_view_t r;
        flowdb_iter_record(it, &r, NULL);
        tally_value(t, r.value, r.value_len);
    }
    flowdb_iter_free(it);
}

static void scan(ts_store *s, flowdb_range_t *r, tally *t) {
    flowdb_iter_t *it = NULL;
    flowdb_error_t *err = NULL;
    fl_check(flowdb_engine_scan(s->e, r, &it, &err), err, "scan");
    flowdb_range_free(r);
    drain(it, t);
}

static void f_window(ts_store *s, const char *key, size_t klen, int64_t lo, int64_t hi, tally *t) {
    const uint8_t *k = (const uint8_t *)key;
    scan(s, flowdb_range_key_time(k, klen, k, klen, lo, hi), t);
}

static void f_all_window(ts_store *s, int64_t lo, int64_t hi, tally *t) {
    scan(s, flowdb_range_time(lo, hi), t);
}

static void f_full_scan(ts_store *s, tally *t) { scan(s, flowdb_range_all(), t); }

const ts_backend flowdb_ts = {"flowdb", flowdb_version, f_open, f_close, f_write, f_settle, f_get,
                              f_latest, f_last_n, f_window, f_all_window, f_full_scan};
