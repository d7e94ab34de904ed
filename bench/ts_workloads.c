/* The time-series workloads (flowdb-bench's, plus the newest 100 points of a series,
 * newest first, and 4-thread ingest in both durability modes), run on one backend: the
 * results are rates, bytes per record, milliseconds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "workloads.h"

#define T0 1700000000000000LL
#define STEP 1000000LL
#define VALUE_LEN 128
#define BATCH 100
#define THREADS 4

const workload_info ts_workloads[TS_WORKLOADS] = {
    [W_INGEST] = {"ingest, batches of 100", "records/s", 0, 0, 2.0},
    [W_GET] = {"get(key, ts)", "ops/s", 0, 1, 2.0},
    [W_ABSENT] = {"get of absent keys", "ops/s", 0, 1, 1.5},
    [W_LATEST] = {"get_latest", "ops/s", 0, 1, 5.0},
    /* The targets: ≥ 2× RocksDB (the column the report checks) and ≥ 10× SQLite. */
    [W_LAST_N] = {"last_n(key, 100)", "ops/s", 0, 1, 2.0},
    [W_SERIES_SCAN] = {"series scan (all points)", "scans/s", 0, 1, 1.5},
    [W_SERIES_WINDOW] = {"series 10-point window", "queries/s", 0, 1, 1.5},
    [W_ALL_WINDOW] = {"all-series 10-second window", "queries/s", 0, 1, 25.0},
    [W_FULL_SCAN] = {"full scan", "records/s", 0, 1, 1.2},
    [W_DISK] = {"disk bytes per record", "bytes", 1, 0, 0.75},
    [W_REOPEN] = {"reopen + first read", "ms", 1, 0, 0.5},
    [W_MT_BUFFERED] = {"4 writers, buffered log", "records/s", 0, 0, 0},
    [W_MT_SYNCED] = {"4 writers, synced log", "records/s", 0, 0, 1.5},
    [W_RSS] = {"peak RSS", "MiB", 1, 0, 1.0},
};

typedef struct {
    char name[32];
    size_t len;
} series_key;

static series_key *make_keys(size_t n) {
    series_key *k = calloc(n, sizeof *k);
    for (size_t i = 0; i < n; i++) k[i].len = (size_t)snprintf(k[i].name, sizeof k[i].name, "cpu.host-%05zu.usage", i);
    return k;
}

/* flowdb-bench's values: 32 bytes that vary (a reading as text) and a 96-byte tail. */
static void make_value(uint8_t *out, size_t s, size_t p, uint64_t *rng) {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    char head[64];
    int n = snprintf(head, sizeof head, "v=%.3f;s=%zu;p=%zu;", (double)(*rng % 10000000) / 1000.0, s, p);
    memset(out, ' ', 32);
    memcpy(out, head, n < 32 ? (size_t)n : 32);
    memset(out + 32, 't', VALUE_LEN - 32);
}

/* Writes every point of every series in time order; only the write calls are timed. */
static double ingest(const ts_backend *b, ts_store *s, const params *p, const series_key *keys) {
    ts_rec recs[BATCH];
    uint8_t *values = malloc(BATCH * VALUE_LEN);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    size_t n = 0, total = p->series * p->points;
    double writing = 0;
    for (size_t pt = 0; pt < p->points; pt++) {
        for (size_t sr = 0; sr < p->series; sr++) {
            make_value(values + n * VALUE_LEN, sr, pt, &rng);
            recs[n] = (ts_rec){keys[sr].name, keys[sr].len, T0 + (int64_t)pt * STEP, values + n * VALUE_LEN, VALUE_LEN};
            if (++n == BATCH || (pt + 1 == p->points && sr + 1 == p->series)) {
                double t = now_secs();
                b->write(s, recs, n);
                writing += now_secs() - t;
                n = 0;
            }
        }
    }
    free(values);
    return (double)total / writing;
}

typedef struct {
    const ts_backend *b;
    ts_store *s;
    const series_key *keys;
    size_t thread, series, batches;
} writer;

/* One writer thread: its own series (every THREADS-th), points in time order. The
 * values of one batch are made once and reused, so the threads time writing only. */
static void *write_thread(void *arg) {
    writer *w = arg;
    uint8_t values[BATCH][VALUE_LEN];
    uint64_t rng = 0x2545F4914F6CDD1Dull + w->thread;
    for (size_t i = 0; i < BATCH; i++) make_value(values[i], w->thread, i, &rng);
    ts_rec recs[BATCH];
    size_t mine = (w->series + THREADS - 1 - w->thread) / THREADS, next = 0;
    for (size_t bt = 0; bt < w->batches; bt++) {
        for (size_t i = 0; i < BATCH; i++, next++) {
            size_t sr = w->thread + (next % mine) * THREADS;
            int64_t ts = T0 + (int64_t)(next / mine) * STEP;
            recs[i] = (ts_rec){w->keys[sr].name, w->keys[sr].len, ts, values[i], VALUE_LEN};
        }
        w->b->write(w->s, recs, BATCH);
    }
    return NULL;
}

static double concurrent_ingest(const ts_backend *b, const params *p, const series_key *keys, int synced,
                                size_t batches) {
    fresh_dir(p->dir);
    ts_store *s = b->open(p->dir, synced, p->cache_mb);
    pthread_t th[THREADS];
    writer w[THREADS];
    double t = now_secs();
    for (size_t i = 0; i < THREADS; i++) {
        w[i] = (writer){b, s, keys, i, p->series, batches};
        pthread_create(&th[i], NULL, write_thread, &w[i]);
    }
    for (size_t i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    double took = now_secs() - t;
    b->close(s);
    return (double)(THREADS * batches * BATCH) / took;
}

void run_ts(const ts_backend *b, int part, const params *p, results *r) {
    series_key *keys = make_keys(2 * p->series);
    if (part == 1) {
        r->value[W_MT_BUFFERED] = concurrent_ingest(b, p, keys, 0, scaled(p, 1000));
        r->value[W_MT_SYNCED] = concurrent_ingest(b, p, keys, 1, scaled(p, 100));
        free(keys);
        return;
    }
    uint64_t rng = 42;
    fresh_dir(p->dir);
    ts_store *s = b->open(p->dir, 0, p->cache_mb);
    r->value[W_INGEST] = ingest(b, s, p, keys);
    b->settle(s);

    tally *t = r->tally;
    TIMED(r, W_GET, scaled(p, 1000000), {
        size_t sr = lcg_below(&rng, p->series), pt = lcg_below(&rng, p->points);
        b->get(s, keys[sr].name, keys[sr].len, T0 + (int64_t)pt * STEP, &t[W_GET]);
    });
    TIMED(r, W_ABSENT, scaled(p, 500000), {
        size_t sr = p->series + lcg_below(&rng, p->series);
        b->get(s, keys[sr].name, keys[sr].len, T0, &t[W_ABSENT]);
    });
    TIMED(r, W_LATEST, scaled(p, 200000), {
        size_t sr = lcg_below(&rng, p->series);
        b->latest(s, keys[sr].name, keys[sr].len, &t[W_LATEST]);
    });
    /* Its draws from rng come before the later workloads', so adding it changed their
     * random series and windows (the same on every backend). */
    size_t last = p->points < 100 ? p->points : 100;
    TIMED(r, W_LAST_N, scaled(p, 100000), {
        size_t sr = lcg_below(&rng, p->series);
        b->last_n(s, keys[sr].name, keys[sr].len, last, &t[W_LAST_N]);
    });
    TIMED(r, W_SERIES_SCAN, scaled(p, 2000), {
        size_t sr = lcg_below(&rng, p->series);
        b->window(s, keys[sr].name, keys[sr].len, 0, INT64_MAX, &t[W_SERIES_SCAN]);
    });
    size_t win = p->points < 10 ? p->points : 10;
    TIMED(r, W_SERIES_WINDOW, scaled(p, 100000), {
        size_t sr = lcg_below(&rng, p->series);
        int64_t lo = T0 + (int64_t)lcg_below(&rng, p->points - win + 1) * STEP;
        b->window(s, keys[sr].name, keys[sr].len, lo, lo + (int64_t)(win - 1) * STEP, &t[W_SERIES_WINDOW]);
    });
    TIMED(r, W_ALL_WINDOW, scaled(p, 20), {
        int64_t lo = T0 + (int64_t)lcg_below(&rng, p->points - win + 1) * STEP;
        b->all_window(s, lo, lo + (int64_t)(win - 1) * STEP, &t[W_ALL_WINDOW]);
    });
    TIMED(r, W_FULL_SCAN, 1, b->full_scan(s, &t[W_FULL_SCAN]));
    r->value[W_FULL_SCAN] *= (double)t[W_FULL_SCAN].count;

    b->close(s);
    r->value[W_DISK] = (double)dir_bytes(p->dir) / (double)(p->series * p->points);
    double t0 = now_secs();
    s = b->open(p->dir, 0, p->cache_mb);
    tally first = {0, 0};
    b->latest(s, keys[0].name, keys[0].len, &first);
    r->value[W_REOPEN] = (now_secs() - t0) * 1e3;
    if (first.count != 1) die(b->name, "reopen", "the first read after reopen found nothing");
    b->close(s);
    free(keys);
}

double load_ts(const ts_backend *b, ts_store *s, const params *p) {
    series_key *keys = make_keys(p->series);
    double rate = ingest(b, s, p, keys);
    b->settle(s);
    free(keys);
    return rate;
}

double loop_ts(const ts_backend *b, ts_store *s, const params *p, const char *w, size_t n, tally *t) {
    series_key *keys = make_keys(p->series);
    uint64_t rng = 12345;
    size_t last = p->points < 100 ? p->points : 100;
    int which = !strcmp(w, "get") ? W_GET : !strcmp(w, "latest") ? W_LATEST : !strcmp(w, "last_n") ? W_LAST_N : -1;
    if (which < 0) die("arguments", "workload", "one of get, latest, last_n");
    double t0 = now_secs();
    for (size_t i = 0; i < n; i++) {
        size_t sr = lcg_below(&rng, p->series);
        if (which == W_GET) {
            int64_t ts = T0 + (int64_t)lcg_below(&rng, p->points) * STEP;
            b->get(s, keys[sr].name, keys[sr].len, ts, t);
        } else if (which == W_LATEST) {
            b->latest(s, keys[sr].name, keys[sr].len, t);
        } else {
            b->last_n(s, keys[sr].name, keys[sr].len, last, t);
        }
    }
    double rate = (double)n / (now_secs() - t0);
    free(keys);
    return rate;
}
