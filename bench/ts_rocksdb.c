/* Time-series backend: RocksDB through rocksdb/c.h, set up as its users run it for
 * this data: keys `series \0 big-endian ts`, a full bloom filter of 10 bits per key, an
 * LRU block cache of the same size as flowdb's, LZ4 blocks, the WAL on (synced per
 * write in synced mode, else buffered as RocksDB's default), a 64 MiB write buffer
 * (flowdb's memtable) with up to 3 of them, and two background threads. */
#include "bench.h"

#include <rocksdb/c.h>
#include <stdlib.h>
#include <string.h>

struct ts_store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *w;
    rocksdb_readoptions_t *r;
};

/* rocksdb/c.h has no version call; the build passes pkg-config's. */
static const char *r_version(void) {
#ifdef ROCKSDB_VERSION
    return ROCKSDB_VERSION;
#else
    return "(unknown version)";
#endif
}

static void check(char *err, const char *what) {
    if (err) die("rocksdb", what, err);
}

static ts_store *r_open(const char *dir, int synced, size_t cache_mb) {
    ts_store *s = calloc(1, sizeof *s);
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_increase_parallelism(s->opts, 2);
    rocksdb_options_set_write_buffer_size(s->opts, 64u << 20);
    rocksdb_options_set_max_write_buffer_number(s->opts, 3);
    rocksdb_options_set_compression(s->opts, rocksdb_lz4_compression);
    s->table = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_filter_policy(s->table, rocksdb_filterpolicy_create_bloom_full(10));
    s->cache = rocksdb_cache_create_lru(cache_mb << 20);
    rocksdb_block_based_options_set_block_cache(s->table, s->cache);
    rocksdb_options_set_block_based_table_factory(s->opts, s->table);
    char *err = NULL;
    s->db = rocksdb_open(s->opts, dir, &err);
    check(err, "open");
    s->w = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->w, synced);
    s->r = rocksdb_readoptions_create();
    return s;
}

static void r_close(ts_store *s) {
    rocksdb_close(s->db);
    rocksdb_writeoptions_destroy(s->w);
    rocksdb_readoptions_destroy(s->r);
    rocksdb_options_destroy(s->opts);
    rocksdb_block_based_options_destroy(s->table);
    rocksdb_cache_destroy(s->cache);
    free(s);
}

/* `key \0 ts` with ts big-endian, so keys sort by (series, ts). */
static size_t make_key(char *out, const char *key, size_t klen, int64_t ts) {
    memcpy(out, key, klen);
    out[klen] = 0;
    for (int i = 0; i < 8; i++) out[klen + 1 + i] = (char)((uint64_t)ts >> (56 - 8 * i));
    return klen + 9;
}

static int64_t key_ts(const char *k, size_t len) {
    uint64_t ts = 0;
    for (size_t i = len - 8; i < len; i++) ts = ts << 8 | (uint8_t)k[i];
    return (int64_t)ts;
}

static void r_write(ts_store *s, const ts_rec *recs, size_t n) {
    rocksdb_writebatch_t *b = rocksdb_writebatch_create();
    char k[256];
    for (size_t i = 0; i < n; i++) {
        size_t kl = make_key(k, recs[i].key, recs[i].key_len, recs[i].ts);
        rocksdb_writebatch_put(b, k, kl, (const char *)recs[i].value, recs[i].value_len);
    }
    char *err = NULL;
    rocksdb_write(s->db, s->w, b, &err);
    check(err, "write");
    rocksdb_writebatch_destroy(b);
}

static void r_settle(ts_store *s) {
    rocksdb_flushoptions_t *f = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(f, 1);
    char *err = NULL;
    rocksdb_flush(s->db, f, &err);
    check(err, "flush");
    rocksdb_flushoptions_destroy(f);
    rocksdb_compact_range(s->db, NULL, 0, NULL, 0);
}

static void r_get(ts_store *s, const char *key, size_t klen, int64_t ts, tally *t) {
    char k[256];
    size_t kl = make_key(k, key, klen, ts);
    char *err = NULL;
    rocksdb_pinnableslice_t *v = rocksdb_get_pinned(s->db, s->r, k, kl, &err);
    check(err, "get");
    if (v) {
        size_t n;
        const char *p = rocksdb_pinnableslice_value(v, &n);
        tally_value(t, p, n);
        rocksdb_pinnableslice_destroy(v);
    }
}

static void r_latest(ts_store *s, const char *key, size_t klen, tally *t) {
    char k[256];
    size_t kl = make_key(k, key, klen, INT64_MAX);
    rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->r);
    rocksdb_iter_seek_for_prev(it, k, kl);
    if (rocksdb_iter_valid(it)) {
        size_t n;
        const char *got = rocksdb_iter_key(it, &n);
        if (n == klen + 9 && memcmp(got, k, klen + 1) == 0) {
            t->count++;
            t->sum += (uint64_t)key_ts(got, n);
        }
    }
    rocksdb_iter_destroy(it);
}

/* The series' own keys only (bounds [series \0, series \1)), from its newest key
 * backwards: SeekForPrev to `series \0 INT64_MAX`, then Prev, up to n values. */
static void r_last_n(ts_store *s, const char *key, size_t klen, size_t n, tally *t) {
    char lower[256], upper[256], k[256];
    memcpy(lower, key, klen);
    lower[klen] = 0;
    memcpy(upper, key, klen);
    upper[klen] = 1;
    size_t kl = make_key(k, key, klen, INT64_MAX);
    rocksdb_readoptions_t *r = rocksdb_readoptions_create();
    rocksdb_readoptions_set_iterate_lower_bound(r, lower, klen + 1);
    rocksdb_readoptions_set_iterate_upper_bound(r, upper, klen + 1);
    rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, r);
    rocksdb_iter_seek_for_prev(it, k, kl);
    for (size_t i = 0; i < n && rocksdb_iter_valid(it); i++, rocksdb_iter_prev(it)) {
        size_t vn;
        const char *v = rocksdb_iter_value(it, &vn);
        tally_value(t, v, vn);
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    check(err, "last_n");
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(r);
}

/* Iterates [from, to) with an upper bound, tallying values whose ts is in [lo, hi]. */
static void range(ts_store *s, const char *from, size_t fl, const char *to, size_t tl, int64_t lo, int64_t hi,
                  tally *t) {
    rocksdb_readoptions_t *r = rocksdb_readoptions_create();
    if (to) rocksdb_readoptions_set_iterate_upper_bound(r, to, tl);
    rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, r);
    if (from) rocksdb_iter_seek(it, from, fl);
    else rocksdb_iter_seek_to_first(it);
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kn, vn;
        const char *k = rocksdb_iter_key(it, &kn);
        int64_t ts = key_ts(k, kn);
        if (ts < lo || ts > hi) continue;
        const char *v = rocksdb_iter_value(it, &vn);
        tally_value(t, v, vn);
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    check(err, "iterate");
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(r);
}

static void r_window(ts_store *s, const char *key, size_t klen, int64_t lo, int64_t hi, tally *t) {
    char from[256], to[256];
    size_t fl = make_key(from, key, klen, lo < 0 ? 0 : lo), tl;
    if (hi == INT64_MAX) { /* the whole series: bound at the next key prefix */
        memcpy(to, key, klen);
        to[klen] = 1;
        tl = klen + 1;
    } else { /* the bound is exclusive: step past hi */
        tl = make_key(to, key, klen, hi + 1);
    }
    range(s, from, fl, to, tl, lo, hi, t);
}

/* RocksDB has no time index: a window across all series reads every key. */
static void r_all_window(ts_store *s, int64_t lo, int64_t hi, tally *t) { range(s, NULL, 0, NULL, 0, lo, hi, t); }

static void r_full_scan(ts_store *s, tally *t) { range(s, NULL, 0, NULL, 0, INT64_MIN, INT64_MAX, t); }

const ts_backend rocksdb_ts = {"rocksdb", r_version, r_open, r_close, r_write, r_settle, r_get,
                               r_latest, r_last_n, r_window, r_all_window, r_full_scan};
