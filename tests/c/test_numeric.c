#define _DEFAULT_SOURCE
/* C tests of numeric series (docs/numeric.md): points written with
 * flowdb_engine_write_points and in write batches come back bit for bit (NaN payloads,
 * -0.0, infinities, subnormals) through get, query, snapshots and flowdb_record_as_f64;
 * flowdb_engine_aggregate and _aggregate_by (and the snapshot forms) compute known
 * results, group series, honour a range's order and limit and leave records of bytes
 * out; flowdb_iter_is_point tells the points of a scan from records of bytes (8-byte
 * ones too); bad arguments are FLOWDB_INVALID_ARGUMENT naming them. Built with -Wall
 * -Wextra -Werror; run by ctest, also statically, under AddressSanitizer/UBSan and
 * under valgrind. */
#include "flowdb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int failures = 0;
static int checks = 0;
#define CHECK(cond)                                                          \
    do {                                                                     \
        checks++;                                                            \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)
#define OK(call) CHECK((call) == FLOWDB_OK)
#define SEC INT64_C(1000000)

/* `call` fails with `code`, and its error message contains `words`. */
#define FAILS(call, code, words)                                                        \
    do {                                                                                \
        flowdb_error_t *err_ = NULL;                                                    \
        CHECK((call) == (code));                                                        \
        CHECK(err_ != NULL && strstr(flowdb_error_message(err_), (words)) != NULL);     \
        if (err_ && !strstr(flowdb_error_message(err_), (words)))                       \
            fprintf(stderr, "  message: %s\n", flowdb_error_message(err_));             \
        flowdb_error_free(err_);                                                        \
    } while (0)

static flowdb_engine_t *open_engine(const char *dir) {
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    flowdb_engine_t *e = NULL;
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    return e;
}

static flowdb_point_t point(const char *key, int64_t ts, double value) {
    flowdb_point_t p = {0}; /* expire_at 0: never expires */
    p.key = (const uint8_t *)key;
    p.key_len = strlen(key);
    p.ts = ts;
    p.value = value;
    return p;
}

static double of_bits(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t bits_of(double d) {
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* A record's value is the double's 8 bytes, little-endian, whatever this machine's
 * order; flowdb_record_as_f64 reads it back bit for bit. */
static int holds(const flowdb_record_view_t *v, uint64_t bits) {
    if (v->value_len != 8) return 0;
    for (int i = 0; i < 8; i++)
        if (v->value[i] != (uint8_t)(bits >> (8 * i))) return 0;
    double d = 0;
    if (flowdb_record_as_f64(v, &d, NULL) != FLOWDB_OK) return 0;
    return bits_of(d) == bits;
}

/* The one record of a list of 0 or 1, checked to hold `bits`; frees the list. */
static void check_one(flowdb_records_t *l, uint64_t bits) {
    CHECK(flowdb_records_len(l) == 1);
    flowdb_record_view_t v;
    if (flowdb_records_len(l) == 1) {
        OK(flowdb_records_at(l, 0, &v, NULL));
        CHECK(holds(&v, bits));
        CHECK(v.expire_at == FLOWDB_NEVER_EXPIRES);
    }
    flowdb_records_free(l);
}

static const uint64_t SPECIAL[] = {
    UINT64_C(0x7ff8000000000001), /* a quiet NaN with a payload */
    UINT64_C(0xfff80000deadbeef), /* a negative NaN with another */
    UINT64_C(0x7ff0000000000001), /* a signalling NaN */
    UINT64_C(0x8000000000000000), /* -0.0 */
    UINT64_C(0x7ff0000000000000), /* +inf */
    UINT64_C(0xfff0000000000000), /* -inf */
    UINT64_C(0x0000000000000001), /* the smallest subnormal */
    UINT64_C(0x000fffffffffffff), /* the largest subnormal */
    UINT64_C(0x3ff0000000000000), /* 1.0 */
};
#define NSPECIAL (sizeof SPECIAL / sizeof SPECIAL[0])

static void test_round_trip(const char *dir) {
    flowdb_engine_t *e = open_engine(dir);
    flowdb_point_t ps[NSPECIAL];
    for (size_t i = 0; i < NSPECIAL; i++) ps[i] = point("special", (int64_t)i, of_bits(SPECIAL[i]));
    OK(flowdb_engine_write_points(e, ps, NSPECIAL, NULL));
    /* The same values through a batch, under another key. */
    flowdb_write_batch_t *b = flowdb_write_batch_new();
    for (size_t i = 0; i < NSPECIAL; i++) {
        flowdb_point_t p = point("batched", (int64_t)i, of_bits(SPECIAL[i]));
        p.expire_at = FLOWDB_NEVER_EXPIRES;
        OK(flowdb_write_batch_put_point(b, &p, NULL));
    }
    CHECK(flowdb_write_batch_count(b) == NSPECIAL);
    OK(flowdb_engine_write(e, b, false, NULL));
    flowdb_write_batch_free(b);
    flowdb_snapshot_t *snap = NULL;
    OK(flowdb_engine_snapshot(e, &snap, NULL));

    for (int round = 0; round < 2; round++) { /* in the memtable, then in a table */
        for (size_t i = 0; i < NSPECIAL; i++) {
            flowdb_records_t *l = NULL;
            OK(flowdb_engine_get(e, (const uint8_t *)"special", 7, (int64_t)i, &l, NULL));
            check_one(l, SPECIAL[i]);
            l = NULL;
            OK(flowdb_snapshot_get(snap, (const uint8_t *)"batched", 7, (int64_t)i, &l, NULL));
            check_one(l, SPECIAL[i]);
        }
        flowdb_range_t *r = flowdb_range_prefix((const uint8_t *)"special", 7);
        flowdb_records_t *l = NULL;
        OK(flowdb_engine_query(e, r, &l, NULL));
        CHECK(flowdb_records_len(l) == NSPECIAL);
        for (size_t i = 0; i < flowdb_records_len(l) && i < NSPECIAL; i++) {
            flowdb_record_view_t v;
            OK(flowdb_records_at(l, i, &v, NULL));
            CHECK(v.ts == (int64_t)i && holds(&v, SPECIAL[i]));
        }
        flowdb_records_free(l);
        flowdb_range_free(r);
        OK(flowdb_engine_flush(e, NULL));
    }
    flowdb_snapshot_free(snap);

    /* A point overwrites a record of bytes at the same (key, ts); an 8-byte record of
     * bytes reads as some number too (as_f64 does not check the mark). */
    flowdb_record_view_t rec = {(const uint8_t *)"mixed", 5, 1, 0, (const uint8_t *)"abcdefgh", 8};
    OK(flowdb_engine_write_batch(e, &rec, 1, NULL));
    flowdb_records_t *l = NULL;
    OK(flowdb_engine_get_latest(e, (const uint8_t *)"mixed", 5, &l, NULL));
    flowdb_record_view_t v;
    OK(flowdb_records_at(l, 0, &v, NULL));
    double d = 0;
    OK(flowdb_record_as_f64(&v, &d, NULL));
    CHECK(memcmp(v.value, "abcdefgh", 8) == 0);
    flowdb_records_free(l);
    flowdb_point_t p = point("mixed", 1, -2.5);
    OK(flowdb_engine_write_points(e, &p, 1, NULL));
    l = NULL;
    OK(flowdb_engine_get(e, (const uint8_t *)"mixed", 5, 1, &l, NULL));
    check_one(l, bits_of(-2.5));

    /* Expiry: a point's own expire_at, and a batch TTL from its ts. */
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t now = (int64_t)tv.tv_sec * SEC + tv.tv_usec;
    flowdb_point_t gone = point("ttl", now - 10 * SEC, 1);
    gone.expire_at = now - 5 * SEC;
    flowdb_point_t kept = point("ttl", now - 9 * SEC, 2);
    kept.expire_at = now + 3600 * SEC;
    flowdb_point_t both[2] = {gone, kept};
    OK(flowdb_engine_write_points(e, both, 2, NULL));
    b = flowdb_write_batch_new();
    flowdb_point_t short_ttl = point("ttl", now - 8 * SEC, 3);
    flowdb_point_t long_ttl = point("ttl", now - 7 * SEC, 4);
    OK(flowdb_write_batch_put_point_ttl(b, &short_ttl, 1, NULL));
    OK(flowdb_write_batch_put_point_ttl(b, &long_ttl, 3600, NULL));
    OK(flowdb_engine_write(e, b, true, NULL));
    flowdb_write_batch_free(b);
    flowdb_range_t *r = flowdb_range_prefix((const uint8_t *)"ttl", 3);
    l = NULL;
    OK(flowdb_engine_query(e, r, &l, NULL));
    CHECK(flowdb_records_len(l) == 2);
    if (flowdb_records_len(l) == 2) {
        OK(flowdb_records_at(l, 0, &v, NULL));
        CHECK(holds(&v, bits_of(2)) && v.expire_at == now + 3600 * SEC);
        OK(flowdb_records_at(l, 1, &v, NULL));
        CHECK(holds(&v, bits_of(4)) && v.expire_at == now - 7 * SEC + 3600 * SEC);
    }
    flowdb_records_free(l);
    flowdb_range_free(r);

    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

static const int32_t ALL_FUNCTIONS[] = {FLOWDB_AGG_COUNT, FLOWDB_AGG_SUM,   FLOWDB_AGG_MIN,
                                        FLOWDB_AGG_MAX,   FLOWDB_AGG_AVG,   FLOWDB_AGG_FIRST,
                                        FLOWDB_AGG_LAST,  FLOWDB_AGG_INCREASE, FLOWDB_AGG_RATE};
#define NALL (sizeof ALL_FUNCTIONS / sizeof ALL_FUNCTIONS[0])

/* Bucket i of a list: its key (NUL-terminated copy in key[64]), start and values. */
static flowdb_bucket_view_t bucket(const flowdb_buckets_t *l, size_t i, char key[64]) {
    flowdb_bucket_view_t v;
    memset(&v, 0, sizeof v);
    OK(flowdb_buckets_at(l, i, &v, NULL));
    size_t n = v.key_len < 63 ? v.key_len : 63;
    if (n) memcpy(key, v.key, n);
    key[n] = '\0';
    return v;
}

static void check_cpu_a(const flowdb_buckets_t *l) {
    CHECK(flowdb_buckets_len(l) == 1);
    if (flowdb_buckets_len(l) != 1) return;
    char key[64];
    flowdb_bucket_view_t b = bucket(l, 0, key);
    CHECK(strcmp(key, "cpu.a") == 0 && b.start == 0 && b.n_values == NALL);
    if (b.n_values != NALL) return;
    const double want[] = {4, 9, 1, 4, 2.25, 3, 1, 5, 5.0 / 45.0};
    for (size_t i = 0; i < NALL; i++) {
        if (b.values[i] != want[i])
            fprintf(stderr, "  %s: got %.17g, want %.17g\n", flowdb_agg_name(ALL_FUNCTIONS[i]), b.values[i], want[i]);
        CHECK(b.values[i] == want[i]);
    }
}

static void test_aggregate(const char *dir) {
    flowdb_engine_t *e = open_engine(dir);
    /* 3, 1, 4, 1 at 0, 15, 30 and 45 s: one bucket of 60 s. */
    flowdb_point_t ps[] = {point("cpu.a", 0, 3), point("cpu.a", 15 * SEC, 1), point("cpu.a", 30 * SEC, 4),
                           point("cpu.a", 45 * SEC, 1)};
    OK(flowdb_engine_write_points(e, ps, 4, NULL));
    /* 8 bytes written as bytes, in the same bucket: not a point, left out. */
    flowdb_record_view_t rec = {(const uint8_t *)"cpu.a", 5, 50 * SEC, 0, (const uint8_t *)"\0\0\0\0\0\0\0\x40", 8};
    OK(flowdb_engine_write_batch(e, &rec, 1, NULL));
    flowdb_range_t *r = flowdb_range_prefix((const uint8_t *)"cpu.a", 5);
    flowdb_buckets_t *l = NULL;
    OK(flowdb_engine_aggregate(e, r, 60 * SEC, ALL_FUNCTIONS, NALL, &l, NULL));
    check_cpu_a(l);
    flowdb_buckets_free(l);

    /* A snapshot sees the points of its moment only. */
    flowdb_snapshot_t *snap = NULL;
    OK(flowdb_engine_snapshot(e, &snap, NULL));
    flowdb_point_t later = point("cpu.a", 59 * SEC, 100);
    OK(flowdb_engine_write_points(e, &later, 1, NULL));
    l = NULL;
    OK(flowdb_snapshot_aggregate(snap, r, 60 * SEC, ALL_FUNCTIONS, NALL, &l, NULL));
    check_cpu_a(l);
    flowdb_buckets_free(l);
    flowdb_group_t series = {0}; /* FLOWDB_GROUP_SERIES */
    l = NULL;
    OK(flowdb_snapshot_aggregate_by(snap, r, 60 * SEC, ALL_FUNCTIONS, NALL, &series, &l, NULL));
    check_cpu_a(l);
    flowdb_buckets_free(l);
    l = NULL;
    const int32_t count[] = {FLOWDB_AGG_COUNT, FLOWDB_AGG_LAST};
    OK(flowdb_engine_aggregate(e, r, 60 * SEC, count, 2, &l, NULL));
    char key[64];
    flowdb_bucket_view_t b = bucket(l, 0, key);
    CHECK(b.n_values == 2 && b.values[0] == 5 && b.values[1] == 100);
    flowdb_buckets_free(l);
    flowdb_snapshot_free(snap);
    flowdb_range_free(r);

    /* Two series, two buckets each (negative timestamps round down); the order of a
     * reverse range, and its limit counted in buckets. */
    flowdb_point_t more[] = {point("cpu.b", -1, 2), point("cpu.b", 10 * SEC, 6), point("cpu.b", 70 * SEC, 8)};
    OK(flowdb_engine_write_points(e, more, 3, NULL));
    r = flowdb_range_prefix((const uint8_t *)"cpu.", 4);
    l = NULL;
    const int32_t sum[] = {FLOWDB_AGG_SUM};
    OK(flowdb_engine_aggregate(e, r, 60 * SEC, sum, 1, &l, NULL));
    const char *keys[] = {"cpu.a", "cpu.b", "cpu.b", "cpu.b"};
    const int64_t starts[] = {0, -60 * SEC, 0, 60 * SEC};
    const double sums[] = {109, 2, 6, 8};
    CHECK(flowdb_buckets_len(l) == 4);
    for (size_t i = 0; i < 4 && i < flowdb_buckets_len(l); i++) {
        b = bucket(l, i, key);
        CHECK(strcmp(key, keys[i]) == 0 && b.start == starts[i] && b.n_values == 1 && b.values[0] == sums[i]);
    }
    flowdb_buckets_free(l);
    OK(flowdb_range_set_reverse(r, true, NULL));
    OK(flowdb_range_set_limit(r, 2, NULL));
    l = NULL;
    OK(flowdb_engine_aggregate(e, r, 60 * SEC, sum, 1, &l, NULL));
    CHECK(flowdb_buckets_len(l) == 2);
    for (size_t i = 0; i < 2 && i < flowdb_buckets_len(l); i++) {
        b = bucket(l, i, key);
        CHECK(strcmp(key, keys[3 - i]) == 0 && b.start == starts[3 - i] && b.values[0] == sums[3 - i]);
    }
    flowdb_buckets_free(l);
    flowdb_range_free(r);
    /* A time range: only the points in it. */
    r = flowdb_range_prefix_time((const uint8_t *)"cpu.", 4, 0, 30 * SEC);
    l = NULL;
    OK(flowdb_engine_aggregate(e, r, INT64_MAX, sum, 1, &l, NULL));
    CHECK(flowdb_buckets_len(l) == 2);
    b = bucket(l, 0, key);
    CHECK(strcmp(key, "cpu.a") == 0 && b.values[0] == 8);
    b = bucket(l, 1, key);
    CHECK(strcmp(key, "cpu.b") == 0 && b.values[0] == 6);
    flowdb_buckets_free(l);
    flowdb_range_free(r);

    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

static void test_grouping(const char *dir) {
    flowdb_engine_t *e = open_engine(dir);
    flowdb_point_t ps[] = {point("cpu.h1.user", 0, 1), point("cpu.h1.user", 10 * SEC, 2),
                           point("cpu.h1.sys", 5 * SEC, 10), point("cpu.h2.user", 0, 7),
                           point("cpu.total", 0, 100)};
    OK(flowdb_engine_write_points(e, ps, 5, NULL));
    flowdb_range_t *r = flowdb_range_prefix((const uint8_t *)"cpu.", 4);
    const int32_t fns[] = {FLOWDB_AGG_COUNT, FLOWDB_AGG_SUM, FLOWDB_AGG_FIRST, FLOWDB_AGG_LAST, FLOWDB_AGG_MIN, FLOWDB_AGG_MAX};
    flowdb_group_t g = {FLOWDB_GROUP_UP_TO_LAST, 0, '.'};
    flowdb_buckets_t *l = NULL;
    OK(flowdb_engine_aggregate_by(e, r, 60 * SEC, fns, 6, &g, &l, NULL));
    /* cpu.h1. holds two series, cpu.h2. one; "cpu.total" is the group "cpu." */
    const char *keys[] = {"cpu.", "cpu.h1.", "cpu.h2."};
    const double want[3][6] = {{1, 100, 100, 100, 100, 100}, {3, 13, 1, 2, 1, 10}, {1, 7, 7, 7, 7, 7}};
    CHECK(flowdb_buckets_len(l) == 3);
    char key[64];
    for (size_t i = 0; i < 3 && i < flowdb_buckets_len(l); i++) {
        flowdb_bucket_view_t b = bucket(l, i, key);
        CHECK(strcmp(key, keys[i]) == 0 && b.start == 0 && b.n_values == 6);
        for (size_t j = 0; j < 6 && j < b.n_values; j++) CHECK(b.values[j] == want[i][j]);
    }
    flowdb_buckets_free(l);

    /* Everything together (the empty key), and by a prefix of 6 bytes, on a snapshot. */
    flowdb_snapshot_t *snap = NULL;
    OK(flowdb_engine_snapshot(e, &snap, NULL));
    g.kind = FLOWDB_GROUP_ALL;
    l = NULL;
    OK(flowdb_snapshot_aggregate_by(snap, r, 60 * SEC, fns, 2, &g, &l, NULL));
    CHECK(flowdb_buckets_len(l) == 1);
    flowdb_bucket_view_t b = bucket(l, 0, key);
    CHECK(b.key_len == 0 && b.n_values == 2 && b.values[0] == 5 && b.values[1] == 120);
    flowdb_buckets_free(l);
    g.kind = FLOWDB_GROUP_PREFIX;
    g.prefix_len = 6;
    l = NULL;
    OK(flowdb_snapshot_aggregate_by(snap, r, 60 * SEC, fns, 2, &g, &l, NULL));
    const char *pkeys[] = {"cpu.h1", "cpu.h2", "cpu.to"};
    const double pcount[] = {3, 1, 1};
    CHECK(flowdb_buckets_len(l) == 3);
    for (size_t i = 0; i < 3 && i < flowdb_buckets_len(l); i++) {
        b = bucket(l, i, key);
        CHECK(strcmp(key, pkeys[i]) == 0 && b.values[0] == pcount[i]);
    }
    flowdb_buckets_free(l);
    flowdb_snapshot_free(snap);
    flowdb_range_free(r);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

static void test_bad_input(const char *dir) {
    flowdb_engine_t *e = open_engine(dir);
    flowdb_point_t p = point("k", 0, 1);
    OK(flowdb_engine_write_points(e, &p, 1, NULL));
    flowdb_range_t *r = flowdb_range_all();
    flowdb_buckets_t *l = NULL;
    const int32_t sum[] = {FLOWDB_AGG_SUM};
    FAILS(flowdb_engine_aggregate(e, r, 0, sum, 1, &l, &err_), FLOWDB_INVALID_ARGUMENT, "step");
    FAILS(flowdb_engine_aggregate(e, r, -60, sum, 1, &l, &err_), FLOWDB_INVALID_ARGUMENT, "step");
    FAILS(flowdb_engine_aggregate(e, r, 60, NULL, 0, &l, &err_), FLOWDB_INVALID_ARGUMENT, "function");
    FAILS(flowdb_engine_aggregate(e, r, 60, sum, 0, &l, &err_), FLOWDB_INVALID_ARGUMENT, "function");
    const int32_t unknown[] = {FLOWDB_AGG_SUM, 42};
    FAILS(flowdb_engine_aggregate(e, r, 60, unknown, 2, &l, &err_), FLOWDB_INVALID_ARGUMENT, "functions[1] is 42");
    const int32_t negative[] = {-1};
    FAILS(flowdb_engine_aggregate(e, r, 60, negative, 1, &l, &err_), FLOWDB_INVALID_ARGUMENT, "not a flowdb_agg_t");
    flowdb_group_t g = {7, 0, 0};
    FAILS(flowdb_engine_aggregate_by(e, r, 60, sum, 1, &g, &l, &err_), FLOWDB_INVALID_ARGUMENT, "group kind 7");
    /* NULL where a pointer is required. */
    FAILS(flowdb_engine_aggregate(NULL, r, 60, sum, 1, &l, &err_), FLOWDB_INVALID_ARGUMENT, "engine is NULL");
    FAILS(flowdb_engine_aggregate(e, NULL, 60, sum, 1, &l, &err_), FLOWDB_INVALID_ARGUMENT, "range is NULL");
    FAILS(flowdb_engine_aggregate(e, r, 60, NULL, 1, &l, &err_), FLOWDB_INVALID_ARGUMENT, "functions is NULL");
    FAILS(flowdb_engine_aggregate(e, r, 60, sum, 1, NULL, &err_), FLOWDB_INVALID_ARGUMENT, "out is NULL");
    FAILS(flowdb_engine_aggregate_by(e, r, 60, sum, 1, NULL, &l, &err_), FLOWDB_INVALID_ARGUMENT, "group is NULL");
    FAILS(flowdb_snapshot_aggregate(NULL, r, 60, sum, 1, &l, &err_), FLOWDB_INVALID_ARGUMENT, "snapshot is NULL");
    FAILS(flowdb_snapshot_aggregate_by(NULL, r, 60, sum, 1, &g, &l, &err_), FLOWDB_INVALID_ARGUMENT, "snapshot is NULL");
    CHECK(l == NULL); /* outputs only on success */
    FAILS(flowdb_engine_write_points(e, NULL, 1, &err_), FLOWDB_INVALID_ARGUMENT, "points is NULL");
    FAILS(flowdb_engine_write_points(NULL, &p, 1, &err_), FLOWDB_INVALID_ARGUMENT, "engine is NULL");
    flowdb_point_t ps[2] = {p, p};
    ps[1].key = NULL;
    FAILS(flowdb_engine_write_points(e, ps, 2, &err_), FLOWDB_INVALID_ARGUMENT, "points[1].key is NULL");
    FAILS(flowdb_write_batch_put_point(NULL, &p, &err_), FLOWDB_INVALID_ARGUMENT, "batch is NULL");
    flowdb_write_batch_t *b = flowdb_write_batch_new();
    FAILS(flowdb_write_batch_put_point(b, NULL, &err_), FLOWDB_INVALID_ARGUMENT, "point is NULL");
    FAILS(flowdb_write_batch_put_point_ttl(b, NULL, 5, &err_), FLOWDB_INVALID_ARGUMENT, "point is NULL");
    CHECK(flowdb_write_batch_count(b) == 0);
    flowdb_write_batch_free(b);
    double d = 0;
    FAILS(flowdb_record_as_f64(NULL, &d, &err_), FLOWDB_INVALID_ARGUMENT, "rec is NULL");
    flowdb_record_view_t short_value = {(const uint8_t *)"k", 1, 0, 0, (const uint8_t *)"abc", 3};
    FAILS(flowdb_record_as_f64(&short_value, &d, &err_), FLOWDB_INVALID_ARGUMENT, "3 bytes");

    /* An index past the list is an error, and *out is not written. */
    OK(flowdb_engine_aggregate(e, r, 60, sum, 1, &l, NULL));
    CHECK(flowdb_buckets_len(l) == 1);
    flowdb_bucket_view_t v;
    memset(&v, 0, sizeof v);
    FAILS(flowdb_buckets_at(l, 1, &v, &err_), FLOWDB_INVALID_ARGUMENT, "index 1 is past the 1 buckets");
    FAILS(flowdb_buckets_at(l, SIZE_MAX, &v, &err_), FLOWDB_INVALID_ARGUMENT, "past");
    FAILS(flowdb_buckets_at(NULL, 0, &v, &err_), FLOWDB_INVALID_ARGUMENT, "list is NULL");
    FAILS(flowdb_buckets_at(l, 0, NULL, &err_), FLOWDB_INVALID_ARGUMENT, "out is NULL");
    CHECK(v.key == NULL && v.values == NULL && v.n_values == 0);
    CHECK(flowdb_buckets_len(NULL) == 0);
    flowdb_buckets_free(l);
    flowdb_buckets_free(NULL);
    l = NULL;

    /* Names, both ways. */
    for (int32_t a = FLOWDB_AGG_COUNT; a <= FLOWDB_AGG_RATE; a++) {
        const char *name = flowdb_agg_name(a);
        int32_t back = -1;
        CHECK(name != NULL);
        if (name) OK(flowdb_agg_from_name(name, &back, NULL));
        CHECK(back == a);
    }
    CHECK(strcmp(flowdb_agg_name(FLOWDB_AGG_INCREASE), "increase") == 0);
    CHECK(flowdb_agg_name(9) == NULL && flowdb_agg_name(-1) == NULL);
    int32_t a = -1;
    FAILS(flowdb_agg_from_name("median", &a, &err_), FLOWDB_INVALID_ARGUMENT, "\"median\" is not an aggregate function");
    FAILS(flowdb_agg_from_name(NULL, &a, &err_), FLOWDB_INVALID_ARGUMENT, "name is NULL");
    FAILS(flowdb_agg_from_name("sum", NULL, &err_), FLOWDB_INVALID_ARGUMENT, "out is NULL");
    CHECK(a == -1);

    /* After shutdown: CLOSED. */
    flowdb_snapshot_t *snap = NULL;
    OK(flowdb_engine_snapshot(e, &snap, NULL));
    OK(flowdb_engine_shutdown(e, NULL));
    FAILS(flowdb_engine_write_points(e, &p, 1, &err_), FLOWDB_CLOSED, "shut down");
    FAILS(flowdb_engine_aggregate(e, r, 60, sum, 1, &l, &err_), FLOWDB_CLOSED, "");
    FAILS(flowdb_snapshot_aggregate(snap, r, 60, sum, 1, &l, &err_), FLOWDB_CLOSED, "");
    CHECK(l == NULL);
    flowdb_snapshot_free(snap);
    flowdb_range_free(r);
    flowdb_engine_free(e);
}

/* Reads a scan to its end: in is_point[i] whether its i-th record is a point, checked
 * to be false again at the end; the number of records. */
static size_t scan_points(flowdb_iter_t *it, int is_point[], size_t cap) {
    size_t n = 0;
    bool has = false;
    while (flowdb_iter_next(it, &has, NULL) == FLOWDB_OK && has) {
        bool p = false;
        OK(flowdb_iter_is_point(it, &p, NULL));
        flowdb_record_view_t v;
        OK(flowdb_iter_record(it, &v, NULL));
        CHECK(v.value_len == 8);
        if (n < cap) is_point[n] = p;
        n++;
    }
    bool p = true;
    OK(flowdb_iter_is_point(it, &p, NULL));
    CHECK(!p); /* at the end */
    return n;
}

/* flowdb_iter_is_point: true for the records written as points, false for 8 bytes
 * written as bytes, before the first flowdb_iter_next and after a seek; from the
 * memtable and from a table, forwards, in reverse and on a snapshot. */
static void test_iter_is_point(const char *dir) {
    flowdb_engine_t *e = open_engine(dir);
    flowdb_point_t ps[] = {point("iter", 1, 1.5), point("iter", 3, of_bits(UINT64_C(0x8000000000000000)))};
    OK(flowdb_engine_write_points(e, ps, 2, NULL));
    flowdb_record_view_t rec = {(const uint8_t *)"iter", 4, 2, 0, (const uint8_t *)"abcdefgh", 8};
    OK(flowdb_engine_write_batch(e, &rec, 1, NULL));
    flowdb_range_t *all = flowdb_range_all();
    flowdb_range_t *rev = flowdb_range_all();
    OK(flowdb_range_set_reverse(rev, true, NULL));
    for (int round = 0; round < 2; round++) { /* in the memtable, then in a table */
        flowdb_iter_t *it = NULL;
        OK(flowdb_engine_scan(e, all, &it, NULL));
        bool p = true;
        OK(flowdb_iter_is_point(it, &p, NULL));
        CHECK(!p); /* before the first next */
        int got[4] = {-1, -1, -1, -1};
        CHECK(scan_points(it, got, 4) == 3);
        CHECK(got[0] == 1 && got[1] == 0 && got[2] == 1);
        /* A seek drops the current record: false until the next flowdb_iter_next. */
        OK(flowdb_iter_seek(it, (const uint8_t *)"iter", 4, 3, NULL));
        p = true;
        OK(flowdb_iter_is_point(it, &p, NULL));
        CHECK(!p);
        bool has = false;
        OK(flowdb_iter_next(it, &has, NULL));
        OK(flowdb_iter_is_point(it, &p, NULL));
        CHECK(has && p);
        OK(flowdb_iter_seek(it, (const uint8_t *)"iter", 4, 2, NULL));
        OK(flowdb_iter_next(it, &has, NULL));
        p = true;
        OK(flowdb_iter_is_point(it, &p, NULL));
        CHECK(has && !p);
        flowdb_iter_free(it);

        it = NULL;
        OK(flowdb_engine_scan(e, rev, &it, NULL));
        int back[4] = {-1, -1, -1, -1};
        CHECK(scan_points(it, back, 4) == 3);
        CHECK(back[0] == 1 && back[1] == 0 && back[2] == 1);
        flowdb_iter_free(it);

        flowdb_snapshot_t *snap = NULL;
        OK(flowdb_engine_snapshot(e, &snap, NULL));
        it = NULL;
        OK(flowdb_snapshot_scan(snap, all, &it, NULL));
        int in_snap[4] = {-1, -1, -1, -1};
        CHECK(scan_points(it, in_snap, 4) == 3);
        CHECK(in_snap[0] == 1 && in_snap[1] == 0 && in_snap[2] == 1);
        flowdb_iter_free(it);
        flowdb_snapshot_free(snap);
        OK(flowdb_engine_flush(e, NULL));
    }

    /* NULL where a pointer is needed; *out is not written on failure. */
    flowdb_iter_t *it = NULL;
    OK(flowdb_engine_scan(e, all, &it, NULL));
    bool p = true;
    FAILS(flowdb_iter_is_point(NULL, &p, &err_), FLOWDB_INVALID_ARGUMENT, "iterator is NULL");
    CHECK(p);
    FAILS(flowdb_iter_is_point(it, NULL, &err_), FLOWDB_INVALID_ARGUMENT, "out is NULL");
    flowdb_iter_free(it);
    flowdb_range_free(rev);
    flowdb_range_free(all);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

/* The example of docs/numeric.md ("In C, C++ and Go"), as it is written there. */
static void test_doc_example(const char *dir) {
    flowdb_engine_t *db = open_engine(dir);
    flowdb_error_t *err = NULL;
    /* from the doc: */
    flowdb_point_t pts[] = {
        {.key = (const uint8_t *)"temp.kitchen", .key_len = 12, .ts = 0, .value = 21.5},
        {.key = (const uint8_t *)"temp.kitchen", .key_len = 12, .ts = 60000000, .value = 22.0},
    };
    flowdb_engine_write_points(db, pts, 2, &err);
    int32_t fns[] = {FLOWDB_AGG_MAX, FLOWDB_AGG_AVG};
    flowdb_range_t *r = flowdb_range_prefix((const uint8_t *)"temp.", 5);
    flowdb_buckets_t *out = NULL;
    if (flowdb_engine_aggregate(db, r, 300000000, fns, 2, &out, &err) == FLOWDB_OK) {
        for (size_t i = 0; i < flowdb_buckets_len(out); i++) {
            flowdb_bucket_view_t b;
            flowdb_buckets_at(out, i, &b, NULL);
            printf("%.*s %lld max %g avg %g\n", (int)b.key_len, (const char *)b.key, (long long)b.start,
                   b.values[0], b.values[1]);
            CHECK(b.key_len == 12 && b.start == 0 && b.values[0] == 22.0 && b.values[1] == 21.75);
        }
    }
    CHECK(flowdb_buckets_len(out) == 1);
    flowdb_buckets_free(out);
    flowdb_range_free(r);
    CHECK(err == NULL);
    flowdb_engine_shutdown(db, NULL);
    flowdb_engine_free(db);
}

/* A block of one series' points in a table keeps their statistics in its index
   entry: a bucket covering the block whole is folded from them, not read (the
   stats count those points). */
static void test_block_statistics(const char *dir) {
    flowdb_engine_t *e = open_engine(dir);
    enum { N = 5000 };
    static flowdb_point_t ps[N];
    for (int i = 0; i < N; i++) ps[i] = point("m.x", (int64_t)i * SEC, i);
    OK(flowdb_engine_write_points(e, ps, N, NULL));
    OK(flowdb_engine_flush(e, NULL));
    flowdb_range_t *r = flowdb_range_prefix((const uint8_t *)"m.", 2);
    const int32_t fs[] = {FLOWDB_AGG_COUNT, FLOWDB_AGG_SUM, FLOWDB_AGG_MAX, FLOWDB_AGG_FIRST};
    flowdb_buckets_t *l = NULL;
    OK(flowdb_engine_aggregate(e, r, 86400 * SEC, fs, 4, &l, NULL));
    CHECK(flowdb_buckets_len(l) == 1);
    char key[64];
    flowdb_bucket_view_t b = bucket(l, 0, key);
    CHECK(strcmp(key, "m.x") == 0 && b.n_values == 4);
    CHECK(b.values[0] == N && b.values[1] == (double)N * (N - 1) / 2 && b.values[2] == N - 1 && b.values[3] == 0);
    flowdb_buckets_free(l);
    flowdb_stats_t st = {0};
    st.struct_size = sizeof st;
    OK(flowdb_engine_stats(e, &st, NULL));
    CHECK(st.total_points_aggregated_from_index > N / 2);
    flowdb_range_free(r);
    flowdb_engine_free(e);
}

int main(void) {
    char base[] = "/tmp/flowdb-c-numeric-XXXXXX";
    if (!mkdtemp(base)) return 2;
    char d[512];
    snprintf(d, sizeof d, "%s/round-trip", base);
    test_round_trip(d);
    snprintf(d, sizeof d, "%s/aggregate", base);
    test_aggregate(d);
    snprintf(d, sizeof d, "%s/grouping", base);
    test_grouping(d);
    snprintf(d, sizeof d, "%s/bad-input", base);
    test_bad_input(d);
    snprintf(d, sizeof d, "%s/iter-is-point", base);
    test_iter_is_point(d);
    snprintf(d, sizeof d, "%s/doc", base);
    test_doc_example(d);
    snprintf(d, sizeof d, "%s/block-stats", base);
    test_block_statistics(d);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
