#define _DEFAULT_SOURCE
/* C tests of downsampling rollups (docs/numeric.md, "Rollups"): a rule added with
 * flowdb_options_add_rollup is rolled by flowdb_engine_run_rollups, its watermark
 * moves, its rolled points read back with flowdb_engine_rollup_query and aggregate
 * with flowdb_engine_rollup_aggregate(_by); a late point is re-rolled; bad rules and
 * unknown names are errors naming them; the example of docs/numeric.md runs as
 * written. Built with -Wall -Wextra -Werror; run by ctest, also statically, under
 * AddressSanitizer/UBSan and under valgrind. */
#include "flowdb.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#define MINUTE INT64_C(60000000)

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

static const int32_t FNS[] = {FLOWDB_AGG_COUNT, FLOWDB_AGG_SUM, FLOWDB_AGG_MIN, FLOWDB_AGG_MAX};

/* Options on `dir` without background work, with the rule "1m" over "cpu." (count,
 * sum, min, max; rolled as soon as a minute ends). */
static flowdb_options_t *options(const char *dir) {
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    flowdb_rollup_rule_t rule = {.name = "1m", .prefix = (const uint8_t *)"cpu.", .prefix_len = 4,
                                 .step = MINUTE, .functions = FNS, .n_functions = 4, .delay = 0};
    OK(flowdb_options_add_rollup(o, &rule, NULL));
    return o;
}

/* One point a second of "cpu.a" over `minutes` minutes from 0, value = the second. */
static void write_minutes(flowdb_engine_t *e, int minutes) {
    for (int i = 0; i < minutes * 60; i++) {
        flowdb_point_t p = {.key = (const uint8_t *)"cpu.a", .key_len = 5, .ts = i * INT64_C(1000000),
                            .value = i};
        OK(flowdb_engine_write_points(e, &p, 1, NULL));
    }
}

/* The value of the rolled point `key` at `ts` (NaN when there is none). */
static double rolled(flowdb_engine_t *e, const char *key, int64_t ts) {
    flowdb_range_t *r = flowdb_range_key_time((const uint8_t *)key, strlen(key), (const uint8_t *)key,
                                              strlen(key), ts, ts);
    flowdb_records_t *list = NULL;
    double v = NAN;
    OK(flowdb_engine_rollup_query(e, "1m", r, &list, NULL));
    if (flowdb_records_len(list) == 1) {
        flowdb_record_view_t rec;
        OK(flowdb_records_at(list, 0, &rec, NULL));
        OK(flowdb_record_as_f64(&rec, &v, NULL));
    }
    flowdb_records_free(list);
    flowdb_range_free(r);
    return v;
}

static void test_roll_and_read(const char *dir) {
    flowdb_options_t *o = options(dir);
    flowdb_engine_t *e = NULL;
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    write_minutes(e, 3);
    int64_t wm = 0;
    OK(flowdb_engine_rollup_watermark(e, "1m", &wm, NULL));
    CHECK(wm == INT64_MIN);
    OK(flowdb_engine_run_rollups(e, NULL));
    OK(flowdb_engine_rollup_watermark(e, "1m", &wm, NULL));
    CHECK(wm >= 3 * MINUTE);
    CHECK(rolled(e, "max:cpu.a", 0) == 59.0);
    CHECK(rolled(e, "min:cpu.a", MINUTE) == 60.0);
    CHECK(rolled(e, "count:cpu.a", 2 * MINUTE) == 60.0);
    /* Every rolled point: 3 buckets x 4 functions, none of the reserved records. */
    flowdb_range_t *all = flowdb_range_all();
    flowdb_records_t *list = NULL;
    OK(flowdb_engine_rollup_query(e, "1m", all, &list, NULL));
    CHECK(flowdb_records_len(list) == 12);
    flowdb_records_free(list);
    /* The count per hour from the rolled counts, over all series. */
    flowdb_range_t *counts = flowdb_range_prefix((const uint8_t *)"count:", 6);
    int32_t sum[] = {FLOWDB_AGG_SUM};
    flowdb_buckets_t *out = NULL;
    OK(flowdb_engine_rollup_aggregate(e, "1m", counts, 60 * MINUTE, sum, 1, &out, NULL));
    CHECK(flowdb_buckets_len(out) == 1);
    flowdb_bucket_view_t b;
    OK(flowdb_buckets_at(out, 0, &b, NULL));
    CHECK(b.n_values == 1 && b.values[0] == 180.0 && b.start == 0);
    flowdb_buckets_free(out);
    flowdb_group_t g = {.kind = FLOWDB_GROUP_ALL};
    out = NULL;
    OK(flowdb_engine_rollup_aggregate_by(e, "1m", all, 60 * MINUTE, sum, 1, &g, &out, NULL));
    CHECK(flowdb_buckets_len(out) == 1);
    flowdb_buckets_free(out);
    /* A late point: re-rolled by the next run. */
    flowdb_point_t late = {.key = (const uint8_t *)"cpu.a", .key_len = 5, .ts = 1000000, .value = 1000};
    OK(flowdb_engine_write_points(e, &late, 1, NULL));
    CHECK(rolled(e, "max:cpu.a", 0) == 59.0);
    OK(flowdb_engine_run_rollups(e, NULL));
    CHECK(rolled(e, "max:cpu.a", 0) == 1000.0);
    CHECK(rolled(e, "sum:cpu.a", 0) == 1770.0 - 1.0 + 1000.0);
    flowdb_range_free(counts);
    flowdb_range_free(all);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

static void test_errors(const char *dir) {
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    int32_t avg[] = {FLOWDB_AGG_AVG};
    flowdb_rollup_rule_t bad = {.name = "x", .step = MINUTE, .functions = avg, .n_functions = 1, .delay = -1};
    OK(flowdb_options_add_rollup(o, &bad, NULL));
    flowdb_engine_t *e = NULL;
    FAILS(flowdb_engine_open(o, &e, &err_), FLOWDB_INVALID_ARGUMENT, "Tuning::rollups[0]");
    CHECK(e == NULL);
    int32_t nonsense[] = {42};
    bad.functions = nonsense;
    FAILS(flowdb_options_add_rollup(o, &bad, &err_), FLOWDB_INVALID_ARGUMENT, "functions[0] is 42");
    bad.name = NULL;
    FAILS(flowdb_options_add_rollup(o, &bad, &err_), FLOWDB_INVALID_ARGUMENT, "name");
    /* Without rules: nothing to roll, and no rollup of any name. */
    OK(flowdb_options_clear_rollups(o, NULL));
    OK(flowdb_engine_open(o, &e, NULL));
    OK(flowdb_engine_run_rollups(e, NULL));
    int64_t wm = 7;
    FAILS(flowdb_engine_rollup_watermark(e, "1m", &wm, &err_), FLOWDB_NOT_FOUND, "\"1m\"");
    CHECK(wm == 7);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
    flowdb_options_free(o);
    char rollups[600];
    snprintf(rollups, sizeof rollups, "%s/rollups", dir);
    CHECK(access(rollups, F_OK) != 0);
}

/* The example of docs/numeric.md ("Rollups in C, C++ and Go"), as it is written there. */
static void test_doc_example(const char *dir) {
    flowdb_options_t *opts = flowdb_options_new();
    flowdb_options_set_data_dir(opts, dir, NULL);
    flowdb_options_set_auto_background(opts, false, NULL);
    flowdb_error_t *err = NULL;
    flowdb_engine_t *db = NULL;
    /* from the doc: */
    int32_t keep[] = {FLOWDB_AGG_MIN, FLOWDB_AGG_MAX, FLOWDB_AGG_SUM, FLOWDB_AGG_COUNT};
    flowdb_rollup_rule_t rule = {.name = "1m", .prefix = (const uint8_t *)"temp.", .prefix_len = 5,
                                 .step = 60000000, .functions = keep, .n_functions = 4,
                                 .keep_secs = 0 /* forever; 90 * 86400: 90 days */,
                                 .delay = -1 /* the default: one step */};
    flowdb_options_add_rollup(opts, &rule, &err);
    flowdb_engine_open(opts, &db, &err);
    flowdb_point_t pts[] = {
        {.key = (const uint8_t *)"temp.kitchen", .key_len = 12, .ts = 0, .value = 21.5},
        {.key = (const uint8_t *)"temp.kitchen", .key_len = 12, .ts = 60000000, .value = 22.0},
    };
    flowdb_engine_write_points(db, pts, 2, &err);
    flowdb_engine_run_rollups(db, &err);   /* background maintenance does it too */
    int32_t max[] = {FLOWDB_AGG_MAX};
    flowdb_range_t *r = flowdb_range_prefix((const uint8_t *)"max:temp.", 9);
    flowdb_buckets_t *out = NULL;
    if (flowdb_engine_rollup_aggregate(db, "1m", r, 3600000000, max, 1, &out, &err) == FLOWDB_OK) {
        for (size_t i = 0; i < flowdb_buckets_len(out); i++) {
            flowdb_bucket_view_t b;
            flowdb_buckets_at(out, i, &b, NULL);
            printf("%.*s %lld hourly max %g\n", (int)b.key_len, (const char *)b.key, (long long)b.start,
                   b.values[0]);
            CHECK(b.key_len == 16 && b.start == 0 && b.values[0] == 22.0);
        }
    }
    CHECK(flowdb_buckets_len(out) == 1);
    flowdb_buckets_free(out);
    flowdb_range_free(r);
    CHECK(err == NULL);
    flowdb_engine_shutdown(db, NULL);
    flowdb_engine_free(db);
    flowdb_options_free(opts);
}

int main(void) {
    char base[] = "/tmp/flowdb-c-rollups-XXXXXX";
    if (!mkdtemp(base)) return 2;
    char d[512];
    snprintf(d, sizeof d, "%s/roll", base);
    test_roll_and_read(d);
    snprintf(d, sizeof d, "%s/errors", base);
    test_errors(d);
    snprintf(d, sizeof d, "%s/doc", base);
    test_doc_example(d);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
