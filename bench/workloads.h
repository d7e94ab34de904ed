/* The workloads of flowdb-compare, each run the same way on every backend. */
#ifndef FLOWDB_BENCH_WORKLOADS_H
#define FLOWDB_BENCH_WORKLOADS_H

#include "bench.h"

enum {
    W_INGEST, W_GET, W_ABSENT, W_LATEST, W_LAST_N, W_SERIES_SCAN, W_SERIES_WINDOW, W_ALL_WINDOW, W_FULL_SCAN,
    W_DISK, W_REOPEN, W_MT_BUFFERED, W_MT_SYNCED, W_RSS, TS_WORKLOADS
};
enum { D_PUT, D_GET, D_EMAIL, D_AGE, D_CITY, D_AGE_KEYS, D_EACH_DOC, D_SYNCED_PUT, D_RSS, DOC_WORKLOADS };
#define MAX_WORKLOADS 16

typedef struct {
    const char *name;
    const char *unit;
    int lower_is_better;
    /* Its tally must be equal on every system (reads of the same data). */
    int checked;
    /* The target for flowdb / other (0: none); a bound from above when
     * lower_is_better. */
    double target;
} workload_info;

typedef struct {
    double value[MAX_WORKLOADS];
    tally tally[MAX_WORKLOADS];
} results;

typedef struct {
    size_t series, points, docs;
    /* Operation counts are the full-size ones times this (smaller for smoke runs). */
    double scale;
    size_t cache_mb;
    /* A directory of the child's own, emptied before use. */
    const char *dir;
} params;

/* An operation count of the full-size run, scaled for this one (at least 1). */
static inline size_t scaled(const params *p, size_t full) {
    size_t n = (size_t)((double)full * p->scale);
    return n ? n : 1;
}

/* Runs the body (the last argument) n times and stores its rate (per second) as r's value of workload w. */
#define TIMED(r, w, n, ...)                              \
    do {                                                 \
        size_t n_ = (n);                                 \
        double t_ = now_secs();                          \
        for (size_t i_ = 0; i_ < n_; i_++) { __VA_ARGS__; } \
        (r)->value[w] = (double)n_ / (now_secs() - t_);  \
    } while (0)

extern const workload_info ts_workloads[TS_WORKLOADS], doc_workloads[DOC_WORKLOADS];

/* Each runs in a process of its own. Part 0 is the main workload (peak RSS is its
 * own); part 1 the writes of a different shape (concurrent ingest; synced puts). */
#define PARTS 2
void run_ts(const ts_backend *b, int part, const params *p, results *r);
void run_docs(const doc_backend *b, int part, const params *p, results *r);

/* For flowdb-ts-loop: loads p's series as flowdb-compare does (every point in time
 * order, batches of 100, then settle) and returns the records written a second; and
 * runs one read workload (get, latest or last_n, on random series) n times,
 * returning its rate a second. */
double load_ts(const ts_backend *b, ts_store *s, const params *p);
double loop_ts(const ts_backend *b, ts_store *s, const params *p, const char *w, size_t n, tally *t);

/* The documents' cities, and jsondb-bench's document i as JSON text in `out`. */
extern const char *const DOC_CITIES[8];
size_t make_doc(char *out, size_t cap, int64_t i);
/* Puts documents [from, from + n) in transactions of `per`; returns the seconds spent
 * in put calls. */
double put_docs(const doc_backend *b, doc_store *s, int64_t from, size_t n, size_t per);

#endif
