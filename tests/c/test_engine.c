#define _DEFAULT_SOURCE
/* C tests of the engine API: every function, its error paths (NULL arguments, bad
 * options, a locked directory, a shut-down handle), iterators to exhaustion and freed
 * early, and several threads writing through one handle. Built with -Wall -Wextra
 * -Werror; run by ctest, also under AddressSanitizer/UBSan and valgrind. */
#include "flowdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static flowdb_record_view_t rec(const char *key, int64_t ts, const char *value) {
    flowdb_record_view_t r;
    r.key = (const uint8_t *)key;
    r.key_len = strlen(key);
    r.ts = ts;
    r.expire_at = FLOWDB_NEVER_EXPIRES;
    r.value = (const uint8_t *)value;
    r.value_len = strlen(value);
    return r;
}

static flowdb_engine_t *open_engine(const char *dir, bool background) {
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, background, NULL));
    OK(flowdb_options_set_sync_mode(o, FLOWDB_SYNC_INTERVAL, 100, NULL));
    flowdb_engine_t *e = NULL;
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    return e;
}

static void test_errors_and_options(const char *dir) {
    CHECK(strcmp(flowdb_version(), FLOWDB_VERSION) == 0);
    CHECK(strcmp(flowdb_status_str(FLOWDB_NOT_FOUND), "NOT_FOUND") == 0);
    CHECK(strcmp(flowdb_status_str(999), "UNKNOWN") == 0);
    flowdb_error_t *err = NULL;
    flowdb_engine_t *e = NULL;
    CHECK(flowdb_engine_open(NULL, &e, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err != NULL && flowdb_error_code(err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(strstr(flowdb_error_message(err), "options") != NULL);
    CHECK(e == NULL); /* outputs only on success */
    flowdb_error_free(err);
    flowdb_options_t *o = flowdb_options_new();
    CHECK(flowdb_options_set_data_dir(o, NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_options_set_sync_mode(o, 7, 0, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_block_size(o, 0, NULL)); /* validated at open: 0 cannot work */
    err = NULL;
    CHECK(flowdb_engine_open(o, &e, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "block_size") != NULL);
    flowdb_error_free(err);
    OK(flowdb_options_set_block_size(o, 8192, NULL));
    OK(flowdb_options_set_default_ttl_secs(o, false, 0, NULL));
    OK(flowdb_options_set_gc_interval_secs(o, 3600, NULL));
    OK(flowdb_options_set_memtable_size_mb(o, 4, NULL));
    OK(flowdb_options_set_max_frozen_memtables(o, 2, NULL));
    OK(flowdb_options_set_flush_interval_ms(o, 100, NULL));
    OK(flowdb_options_set_time_bucket_secs(o, 60, NULL));
    OK(flowdb_options_set_index_memory_budget_mb(o, 64, NULL));
    OK(flowdb_options_set_block_cache_capacity_mb(o, 8, NULL));
    OK(flowdb_options_set_bloom_bits_per_key(o, 10, NULL));
    OK(flowdb_options_set_wal_segment_size_mb(o, 1, NULL));
    OK(flowdb_options_set_compaction_threshold(o, 2, NULL));
    OK(flowdb_options_set_create_if_missing(o, true, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_engine_t *second = NULL;
    CHECK(flowdb_engine_open(o, &second, NULL) == FLOWDB_LOCKED);
    OK(flowdb_engine_shutdown(e, NULL));
    CHECK(flowdb_engine_shutdown(e, NULL) == FLOWDB_CLOSED);
    CHECK(flowdb_engine_flush(e, NULL) == FLOWDB_CLOSED);
    flowdb_engine_free(e);
    flowdb_options_free(o);
    /* _free(NULL) does nothing. */
    flowdb_engine_free(NULL);
    flowdb_options_free(NULL);
    flowdb_error_free(NULL);
    flowdb_records_free(NULL);
    flowdb_iter_free(NULL);
    flowdb_range_free(NULL);
    flowdb_series_free(NULL);
    flowdb_string_free(NULL);
    flowdb_maintenance_stop(NULL);
    CHECK(flowdb_records_len(NULL) == 0);
}

static void test_reads_and_writes(const char *dir) {
    flowdb_engine_t *e = open_engine(dir, false);
    flowdb_record_view_t batch[4] = {rec("cpu.a", 1, "1"), rec("cpu.a", 2, "2"), rec("cpu.b", 1, "3"), rec("mem.a", 5, "4")};
    OK(flowdb_engine_write_batch(e, batch, 4, NULL));
    flowdb_record_view_t more[1] = {rec("cpu.c", 9, "x")};
    OK(flowdb_engine_write_batch_sync(e, more, 1, NULL));
    OK(flowdb_engine_write_batch_owned(e, more, 1, NULL));
    OK(flowdb_engine_write_batch_ttl(e, more, 1, true, 1, NULL)); /* ts 9 + 1 s: expired */
    CHECK(flowdb_engine_write_batch(e, NULL, 1, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_record_view_t bad = rec("", 1, "v");
    CHECK(flowdb_engine_write_batch(e, &bad, 1, NULL) == FLOWDB_INVALID_ARGUMENT);

    flowdb_records_t *list = NULL;
    OK(flowdb_engine_get(e, (const uint8_t *)"cpu.a", 5, 2, &list, NULL));
    CHECK(flowdb_records_len(list) == 1);
    flowdb_record_view_t v;
    OK(flowdb_records_at(list, 0, &v, NULL));
    CHECK(v.ts == 2 && v.value_len == 1 && v.value[0] == '2' && v.key_len == 5);
    CHECK(flowdb_records_at(list, 1, &v, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_records_free(list);
    OK(flowdb_engine_get(e, (const uint8_t *)"cpu.c", 5, 9, &list, NULL));
    CHECK(flowdb_records_len(list) == 0); /* expired: invisible */
    flowdb_records_free(list);
    list = flowdb_engine_get_sync(e, (const uint8_t *)"cpu.b", 5, 1);
    CHECK(flowdb_records_len(list) == 1);
    flowdb_records_free(list);
    CHECK(flowdb_engine_get(e, NULL, 3, 1, &list, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_engine_get_latest(e, (const uint8_t *)"cpu.a", 5, &list, NULL));
    OK(flowdb_records_at(list, 0, &v, NULL));
    CHECK(v.ts == 2);
    flowdb_records_free(list);

    OK(flowdb_engine_query_by_prefix(e, (const uint8_t *)"cpu.", 4, &list, NULL));
    CHECK(flowdb_records_len(list) == 3);
    flowdb_records_free(list);
    OK(flowdb_engine_query_by_key_range(e, (const uint8_t *)"cpu.b", 5, (const uint8_t *)"mem.a", 5, &list, NULL));
    CHECK(flowdb_records_len(list) == 2); /* both ends included */
    flowdb_records_free(list);
    OK(flowdb_engine_query_time_range(e, 1, 1, &list, NULL));
    CHECK(flowdb_records_len(list) == 2);
    flowdb_records_free(list);
    OK(flowdb_engine_query_prefix_time_range(e, (const uint8_t *)"cpu.", 4, 2, 5, &list, NULL));
    CHECK(flowdb_records_len(list) == 1);
    flowdb_records_free(list);
    OK(flowdb_engine_query_key_time_range(e, (const uint8_t *)"a", 1, (const uint8_t *)"z", 1, 5, 5, &list, NULL));
    CHECK(flowdb_records_len(list) == 1);
    flowdb_records_free(list);
    flowdb_range_t *r = flowdb_range_all();
    OK(flowdb_engine_query(e, r, &list, NULL));
    CHECK(flowdb_records_len(list) == 4); /* cpu.c@9 was rewritten with an expired TTL */
    flowdb_records_free(list);
    flowdb_range_free(r);
    CHECK(flowdb_engine_query(e, NULL, &list, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_range_prefix(NULL, 3) == NULL);

    /* Iterators: to exhaustion, and freed early. */
    flowdb_range_t *ranges[5] = {flowdb_range_prefix((const uint8_t *)"cpu.", 4), flowdb_range_time(0, 10),
                                 flowdb_range_prefix_time((const uint8_t *)"cpu.", 4, 1, 1),
                                 flowdb_range_key((const uint8_t *)"cpu.a", 5, (const uint8_t *)"cpu.a", 5),
                                 flowdb_range_key_time((const uint8_t *)"a", 1, (const uint8_t *)"z", 1, 2, 2)};
    size_t want[5] = {3, 4, 2, 2, 1};
    for (int i = 0; i < 5; i++) {
        flowdb_iter_t *it = NULL;
        OK(flowdb_engine_scan_opt(e, ranges[i], i % 2 == 0, true, &it, NULL));
        flowdb_record_view_t cur;
        CHECK(flowdb_iter_record(it, &cur, NULL) == FLOWDB_INVALID_ARGUMENT); /* before next */
        size_t n = 0;
        bool has = false;
        int64_t last_ts = INT64_MIN;
        while (flowdb_iter_next(it, &has, NULL) == FLOWDB_OK && has) {
            OK(flowdb_iter_record(it, &cur, NULL));
            (void)last_ts;
            last_ts = cur.ts;
            n++;
        }
        CHECK(n == want[i]);
        flowdb_iter_free(it);
        flowdb_range_free(ranges[i]);
    }
    flowdb_iter_t *it = NULL;
    OK(flowdb_engine_scan_prefix(e, (const uint8_t *)"", 0, &it, NULL));
    bool has = false;
    OK(flowdb_iter_next(it, &has, NULL));
    CHECK(has);
    flowdb_iter_free(it); /* early */
    OK(flowdb_engine_scan_prefix_time_range(e, (const uint8_t *)"cpu.", 4, 1, 1, &it, NULL));
    flowdb_iter_free(it);
    r = flowdb_range_all();
    OK(flowdb_engine_scan(e, r, &it, NULL));
    flowdb_range_free(r);
    /* The scan keeps its snapshot while the engine changes. */
    flowdb_record_view_t later = rec("zzz", 1, "late");
    OK(flowdb_engine_write_batch(e, &later, 1, NULL));
    size_t n = 0;
    while (flowdb_iter_next(it, &has, NULL) == FLOWDB_OK && has) n++;
    CHECK(n == 4);
    flowdb_iter_free(it);

    /* Deletes and patches. */
    flowdb_key_ts_t dk = {(const uint8_t *)"cpu.a", 5, 1};
    OK(flowdb_engine_delete_batch(e, &dk, 1, NULL));
    CHECK(flowdb_engine_delete_batch(e, NULL, 2, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_engine_delete_range(e, (const uint8_t *)"mem.", 4, (const uint8_t *)"mem/", 4, NULL));
    CHECK(flowdb_engine_delete_range(e, (const uint8_t *)"b", 1, (const uint8_t *)"a", 1, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_engine_query_by_prefix(e, (const uint8_t *)"", 0, &list, NULL));
    CHECK(flowdb_records_len(list) == 3); /* cpu.a@2, cpu.b@1, zzz@1 */
    flowdb_records_free(list);
    OK(flowdb_engine_patch_record(e, (const uint8_t *)"cpu.b", 5, 1, true, (const uint8_t *)"new", 3, false, 0, &list, NULL));
    OK(flowdb_records_at(list, 0, &v, NULL));
    CHECK(v.value_len == 3 && memcmp(v.value, "new", 3) == 0);
    flowdb_records_free(list);
    flowdb_error_t *err = NULL;
    CHECK(flowdb_engine_patch_record(e, (const uint8_t *)"nope", 4, 1, false, NULL, 0, true, 5, &list, &err) == FLOWDB_NOT_FOUND);
    flowdb_error_free(err);

    /* Maintenance, stats, metrics. */
    OK(flowdb_engine_flush(e, NULL));
    bool compacted = false;
    OK(flowdb_engine_trigger_compaction(e, &compacted, NULL));
    /* Four flushes in one time window make a tiered merge due (tiers of four);
     * run_compactions runs it, and then nothing is due. */
    const char *keys[4] = {"m.a", "m.b", "m.c", "m.d"};
    for (int i = 0; i < 4; i++) {
        flowdb_record_view_t w = rec(keys[i], i + 1, "v");
        OK(flowdb_engine_write_batch(e, &w, 1, NULL));
        OK(flowdb_engine_flush(e, NULL));
    }
    uint64_t steps = 99;
    OK(flowdb_engine_run_compactions(e, &steps, NULL));
    CHECK(steps == 1);
    OK(flowdb_engine_run_compactions(e, &steps, NULL));
    CHECK(steps == 0);
    OK(flowdb_engine_run_compactions(e, NULL, NULL));
    uint64_t purged = 99;
    OK(flowdb_engine_trigger_gc(e, &purged, NULL));
    flowdb_maintenance_t *m = NULL;
    OK(flowdb_engine_spawn_background_maintenance(e, &m, NULL));
    CHECK(m != NULL);
    flowdb_maintenance_t *m2 = NULL;
    OK(flowdb_engine_spawn_background_maintenance(e, &m2, NULL));
    CHECK(m2 == NULL); /* already running */
    flowdb_maintenance_stop(m);
    flowdb_stats_t s;
    memset(&s, 0, sizeof s);
    CHECK(flowdb_engine_stats(e, &s, NULL) == FLOWDB_INVALID_ARGUMENT); /* struct_size unset */
    s.struct_size = sizeof s;
    OK(flowdb_engine_stats(e, &s, NULL));
    CHECK(s.struct_size == sizeof s && s.total_records_written >= 8 && s.sstable_count >= 1 && s.total_flushes >= 1);
    CHECK(s.total_compaction_bytes_written > 0 && s.write_amplification > 1.0);
    char *text = NULL;
    size_t len = 0;
    OK(flowdb_engine_metrics_text(e, &text, &len, NULL));
    CHECK(text != NULL && len == strlen(text) && strstr(text, "flowdb_records_written_total") != NULL);
    flowdb_string_free(text);
    OK(flowdb_engine_sync(e, NULL)); /* flush + sync: the engine stays open */
    flowdb_record_view_t after_sync = rec("synced", 1, "s");
    OK(flowdb_engine_write_batch(e, &after_sync, 1, NULL));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    OK(flowdb_engine_close(e, NULL)); /* the deprecated name of flowdb_engine_sync */
#pragma GCC diagnostic pop
    OK(flowdb_engine_write_batch(e, &after_sync, 1, NULL));
    OK(flowdb_engine_shutdown(e, NULL));
    CHECK(flowdb_engine_sync(e, NULL) == FLOWDB_CLOSED);
    flowdb_engine_free(e);

    /* Reopen: the data is there. */
    e = open_engine(dir, true);
    OK(flowdb_engine_get(e, (const uint8_t *)"cpu.b", 5, 1, &list, NULL));
    CHECK(flowdb_records_len(list) == 1);
    flowdb_records_free(list);
    flowdb_engine_free(e); /* without shutdown: nothing acknowledged is lost */
}

struct writer_arg {
    flowdb_engine_t *e;
    int id;
};

static void *writer(void *p) {
    struct writer_arg *a = p;
    char key[32];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "t%d", a->id);
        flowdb_record_view_t r = rec(key, i, "payload");
        if (flowdb_engine_write_batch(a->e, &r, 1, NULL) != FLOWDB_OK) return (void *)1;
        flowdb_records_t *l = NULL;
        if (flowdb_engine_get(a->e, (const uint8_t *)key, strlen(key), i, &l, NULL) != FLOWDB_OK || flowdb_records_len(l) != 1) {
            flowdb_records_free(l);
            return (void *)1;
        }
        flowdb_records_free(l);
    }
    return NULL;
}

static void test_threads(const char *dir) {
    flowdb_engine_t *e = open_engine(dir, true);
    pthread_t t[4];
    struct writer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].e = e;
        args[i].id = i;
        CHECK(pthread_create(&t[i], NULL, writer, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret = NULL;
        pthread_join(t[i], &ret);
        CHECK(ret == NULL);
    }
    flowdb_records_t *list = NULL;
    OK(flowdb_engine_query_by_prefix(e, (const uint8_t *)"t", 1, &list, NULL));
    CHECK(flowdb_records_len(list) == 800);
    flowdb_records_free(list);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

/* A zero-initialised record view (C's usual `{.key = .., .ts = .., .value = ..}`) has
 * expire_at 0, which means "never expires": it must survive a flush and a reopen and
 * read back as FLOWDB_NEVER_EXPIRES; with a default TTL it takes that TTL. */
static void test_zero_initialised_record(const char *dir) {
    flowdb_engine_t *e = open_engine(dir, false);
    flowdb_record_view_t r = {.key = (const uint8_t *)"zero", .key_len = 4, .ts = 1000, .value = (const uint8_t *)"v", .value_len = 1};
    OK(flowdb_engine_write_batch(e, &r, 1, NULL));
    OK(flowdb_engine_flush(e, NULL));
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
    e = open_engine(dir, false);
    flowdb_records_t *l = NULL;
    OK(flowdb_engine_get(e, (const uint8_t *)"zero", 4, 1000, &l, NULL));
    CHECK(flowdb_records_len(l) == 1);
    flowdb_record_view_t got;
    memset(&got, 0, sizeof got);
    OK(flowdb_records_at(l, 0, &got, NULL));
    CHECK(got.expire_at == FLOWDB_NEVER_EXPIRES);
    CHECK(got.value_len == 1 && got.value[0] == 'v');
    flowdb_records_free(l);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);

    /* With a default TTL of one second, the same zero expire_at takes the default:
     * ts 1000 us + 1 s lies in 1970, so the record is expired and invisible. */
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    OK(flowdb_options_set_default_ttl_secs(o, true, 1, NULL));
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    r.key = (const uint8_t *)"ttl";
    r.key_len = 3;
    OK(flowdb_engine_write_batch(e, &r, 1, NULL));
    l = NULL;
    OK(flowdb_engine_get(e, (const uint8_t *)"ttl", 3, 1000, &l, NULL));
    CHECK(flowdb_records_len(l) == 0);
    flowdb_records_free(l);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

/* A write batch applies all or none; a snapshot is unaffected by later writes and
 * outlives its engine handle (reads then fail with FLOWDB_CLOSED). */
static void test_batch_and_snapshot(const char *dir) {
    flowdb_engine_t *e = open_engine(dir, false);
    flowdb_write_batch_t *b = flowdb_write_batch_new();
    flowdb_record_view_t r = rec("a", 1, "one");
    OK(flowdb_write_batch_put(b, &r, NULL));
    r = rec("a", 2, "two");
    OK(flowdb_write_batch_put_ttl(b, &r, 1, NULL)); /* ts 2 us + 1 s: expired */
    OK(flowdb_write_batch_delete(b, (const uint8_t *)"a", 1, 0, NULL));
    OK(flowdb_write_batch_delete_range(b, (const uint8_t *)"x", 1, (const uint8_t *)"y", 1, NULL));
    CHECK(flowdb_write_batch_count(b) == 4);
    CHECK(flowdb_write_batch_put(b, NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_write_batch_put(NULL, &r, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_engine_write(e, b, true, NULL));
    CHECK(flowdb_engine_write(e, NULL, false, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_records_t *l = NULL;
    OK(flowdb_engine_query_by_prefix(e, (const uint8_t *)"a", 1, &l, NULL));
    CHECK(flowdb_records_len(l) == 1);
    flowdb_records_free(l);
    /* A bad operation: nothing of the batch is written. */
    flowdb_write_batch_clear(b);
    CHECK(flowdb_write_batch_count(b) == 0);
    r = rec("b", 1, "never written");
    OK(flowdb_write_batch_put(b, &r, NULL));
    OK(flowdb_write_batch_delete_range(b, (const uint8_t *)"z", 1, (const uint8_t *)"a", 1, NULL));
    flowdb_error_t *err = NULL;
    CHECK(flowdb_engine_write(e, b, false, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "batch operation 1") != NULL);
    flowdb_error_free(err);
    OK(flowdb_engine_get(e, (const uint8_t *)"b", 1, 1, &l, NULL));
    CHECK(flowdb_records_len(l) == 0);
    flowdb_records_free(l);
    flowdb_write_batch_free(b);
    flowdb_write_batch_free(NULL);

    flowdb_snapshot_t *s = NULL;
    OK(flowdb_engine_snapshot(e, &s, NULL));
    r = rec("a", 5, "later");
    OK(flowdb_engine_write_batch(e, &r, 1, NULL));
    OK(flowdb_engine_flush(e, NULL));
    OK(flowdb_snapshot_get_latest(s, (const uint8_t *)"a", 1, &l, NULL));
    flowdb_record_view_t v;
    CHECK(flowdb_records_len(l) == 1 && flowdb_records_at(l, 0, &v, NULL) == FLOWDB_OK && v.ts == 1);
    flowdb_records_free(l);
    OK(flowdb_snapshot_get(s, (const uint8_t *)"a", 1, 5, &l, NULL));
    CHECK(flowdb_records_len(l) == 0);
    flowdb_records_free(l);
    flowdb_range_t *all = flowdb_range_all();
    OK(flowdb_snapshot_query(s, all, &l, NULL));
    CHECK(flowdb_records_len(l) == 1);
    flowdb_records_free(l);
    flowdb_iter_t *it = NULL;
    OK(flowdb_snapshot_scan(s, all, &it, NULL));
    bool has = false;
    int n = 0;
    while (flowdb_iter_next(it, &has, NULL) == FLOWDB_OK && has) n++;
    CHECK(n == 1);
    flowdb_iter_free(it);
    CHECK(flowdb_snapshot_get(NULL, (const uint8_t *)"a", 1, 1, &l, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
    CHECK(flowdb_snapshot_query(s, all, &l, NULL) == FLOWDB_CLOSED);
    flowdb_range_free(all);
    flowdb_snapshot_free(s);
    flowdb_snapshot_free(NULL);
}

/* Block compression: a value that is not a flowdb_compression_t is refused; tables
 * written with LZ4 read back whole when the database is reopened with zstd. */
static void test_block_compression(const char *dir) {
    flowdb_options_t *o = flowdb_options_new();
    flowdb_error_t *err = NULL;
    CHECK(flowdb_options_set_block_compression(o, 7, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "block compression 7") != NULL);
    flowdb_error_free(err);
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    OK(flowdb_options_set_block_compression(o, FLOWDB_COMPRESSION_LZ4, NULL));
    flowdb_engine_t *e = NULL;
    OK(flowdb_engine_open(o, &e, NULL));
    char key[32], value[64];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "s%02d", i % 30);
        snprintf(value, sizeof value, "reading=%d;unit=celsius;site=north", i * 7);
        flowdb_record_view_t r = rec(key, i, value);
        OK(flowdb_engine_write_batch(e, &r, 1, NULL));
    }
    OK(flowdb_engine_flush(e, NULL));
    flowdb_engine_free(e);
    OK(flowdb_options_set_block_compression(o, FLOWDB_COMPRESSION_ZSTD, NULL));
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    flowdb_records_t *list = NULL;
    OK(flowdb_engine_query_by_prefix(e, (const uint8_t *)"s", 1, &list, NULL));
    CHECK(flowdb_records_len(list) == 3000);
    flowdb_records_free(list);
    OK(flowdb_engine_last_n(e, (const uint8_t *)"s07", 3, 1, &list, NULL));
    flowdb_record_view_t v;
    OK(flowdb_records_at(list, 0, &v, NULL));
    CHECK(v.ts == 2977 && v.value_len == strlen("reading=20839;unit=celsius;site=north"));
    CHECK(memcmp(v.value, "reading=20839;unit=celsius;site=north", v.value_len) == 0);
    flowdb_records_free(list);
    flowdb_engine_free(e);
}

/* Tuning: a bad value is named at open; small tables make a full compaction write a
 * run of several tables, read back whole. */
static void test_tuning(const char *dir) {
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    OK(flowdb_options_set_zstd_level(o, 0, NULL)); /* validated at open */
    flowdb_engine_t *e = NULL;
    flowdb_error_t *err = NULL;
    CHECK(flowdb_engine_open(o, &e, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "zstd_level") != NULL);
    flowdb_error_free(err);
    OK(flowdb_options_set_zstd_level(o, 3, NULL));
    OK(flowdb_options_set_block_restart_interval(o, 8, NULL));
    OK(flowdb_options_set_index_partition_blocks(o, 4, NULL));
    OK(flowdb_options_set_target_table_bytes(o, 4096, NULL));
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    char key[32], value[64];
    uint32_t x = 1; /* values that do not compress */
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "s%03d", i % 50);
        for (int j = 0; j < 63; j++) value[j] = (char)('a' + ((x = x * 1103515245u + 12345u) >> 24) % 26);
        value[63] = 0;
        flowdb_record_view_t r = rec(key, i, value);
        OK(flowdb_engine_write_batch(e, &r, 1, NULL));
    }
    OK(flowdb_engine_flush(e, NULL));
    OK(flowdb_engine_trigger_compaction(e, NULL, NULL));
    flowdb_stats_t s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    OK(flowdb_engine_stats(e, &s, NULL));
    CHECK(s.sstable_count >= 3);
    flowdb_records_t *list = NULL;
    OK(flowdb_engine_query_by_prefix(e, (const uint8_t *)"s", 1, &list, NULL));
    CHECK(flowdb_records_len(list) == 2000);
    flowdb_records_free(list);
    /* The newest points of one series, newest first, across the run's tables. */
    OK(flowdb_engine_last_n(e, (const uint8_t *)"s007", 4, 3, &list, NULL));
    CHECK(flowdb_records_len(list) == 3);
    flowdb_record_view_t v;
    OK(flowdb_records_at(list, 0, &v, NULL));
    CHECK(v.ts == 1957);
    OK(flowdb_records_at(list, 2, &v, NULL));
    CHECK(v.ts == 1857);
    flowdb_records_free(list);
    OK(flowdb_engine_last_n(e, (const uint8_t *)"s007", 4, 0, &list, NULL));
    CHECK(flowdb_records_len(list) == 0);
    flowdb_records_free(list);
    flowdb_snapshot_t *snap = NULL;
    OK(flowdb_engine_snapshot(e, &snap, NULL));
    OK(flowdb_snapshot_last_n(snap, (const uint8_t *)"s007", 4, 100, &list, NULL));
    CHECK(flowdb_records_len(list) == 40);
    flowdb_records_free(list);
    flowdb_snapshot_free(snap);
    flowdb_engine_free(e);
}

/* The timestamps 1..30 of the live records of `key`, as bits (bit ts), from a query
 * of that one key. */
static uint32_t ts_bits(flowdb_engine_t *e, const char *key) {
    flowdb_records_t *l = NULL;
    uint32_t bits = 0;
    OK(flowdb_engine_query_by_key_range(e, (const uint8_t *)key, strlen(key), (const uint8_t *)key, strlen(key), &l, NULL));
    for (size_t i = 0; i < flowdb_records_len(l); i++) {
        flowdb_record_view_t v;
        OK(flowdb_records_at(l, i, &v, NULL));
        CHECK(v.key_len == strlen(key) && memcmp(v.key, key, v.key_len) == 0);
        CHECK(v.ts >= 1 && v.ts <= 30);
        if (v.ts >= 1 && v.ts <= 30) bits |= 1u << v.ts;
    }
    flowdb_records_free(l);
    return bits;
}

/* Bits lo..hi (inclusive). */
static uint32_t span(int lo, int hi) {
    uint32_t bits = 0;
    for (int i = lo; i <= hi; i++) bits |= 1u << i;
    return bits;
}

static size_t count_all(flowdb_engine_t *e) {
    flowdb_records_t *l = NULL;
    OK(flowdb_engine_query_by_prefix(e, (const uint8_t *)"", 0, &l, NULL));
    size_t n = flowdb_records_len(l);
    flowdb_records_free(l);
    return n;
}

static void write_points(flowdb_engine_t *e, const char *const *keys, int nkeys, int from, int to) {
    for (int k = 0; k < nkeys; k++)
        for (int ts = from; ts <= to; ts++) {
            flowdb_record_view_t r = rec(keys[k], ts, "v");
            OK(flowdb_engine_write_batch(e, &r, 1, NULL));
        }
}

/* Deleting by time: delete_time_range (half-open keys, inclusive times),
 * delete_prefix_before and delete_before (ts < cutoff), on flushed and unflushed
 * data; what remains is checked record by record, and again after a flush, a full
 * compaction and a reopen. Bad ranges are INVALID_ARGUMENT and delete nothing. */
static void test_delete_by_time(const char *dir) {
    flowdb_engine_t *e = open_engine(dir, false);
    const char *keys[4] = {"cpu.a", "cpu.b", "cpu.c", "mem.a"};
    write_points(e, keys, 4, 1, 5);
    OK(flowdb_engine_flush(e, NULL)); /* ts 1..5 in a table, 6..10 in the memtable */
    write_points(e, keys, 4, 6, 10);
    CHECK(count_all(e) == 40);

    /* cpu.a and cpu.b (cpu.c is the excluded end), ts 3..5 included. */
    OK(flowdb_engine_delete_time_range(e, (const uint8_t *)"cpu.a", 5, (const uint8_t *)"cpu.c", 5, 3, 5, NULL));
    CHECK(ts_bits(e, "cpu.a") == (span(1, 2) | span(6, 10)));
    CHECK(ts_bits(e, "cpu.b") == (span(1, 2) | span(6, 10)));
    CHECK(ts_bits(e, "cpu.c") == span(1, 10));
    CHECK(ts_bits(e, "mem.a") == span(1, 10));
    /* Bad ranges: nothing deleted. */
    flowdb_error_t *err = NULL;
    CHECK(flowdb_engine_delete_time_range(e, (const uint8_t *)"cpu.a", 5, (const uint8_t *)"cpu.z", 5, 9, 8, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && flowdb_error_code(err) == FLOWDB_INVALID_ARGUMENT && strstr(flowdb_error_message(err), "ts_start") != NULL);
    flowdb_error_free(err);
    err = NULL;
    CHECK(flowdb_engine_delete_time_range(e, (const uint8_t *)"mem.", 4, (const uint8_t *)"cpu.", 4, 1, 10, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && flowdb_error_code(err) == FLOWDB_INVALID_ARGUMENT);
    flowdb_error_free(err);
    CHECK(flowdb_engine_delete_time_range(NULL, (const uint8_t *)"a", 1, (const uint8_t *)"b", 1, 1, 2, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_engine_delete_prefix_before(e, NULL, 3, 5, NULL) == FLOWDB_INVALID_ARGUMENT);
    /* Empty regions: start == end, INT64_MIN. */
    OK(flowdb_engine_delete_time_range(e, (const uint8_t *)"cpu.c", 5, (const uint8_t *)"cpu.c", 5, INT64_MIN, INT64_MAX, NULL));
    OK(flowdb_engine_delete_before(e, INT64_MIN, NULL));
    OK(flowdb_engine_delete_prefix_before(e, (const uint8_t *)"cpu.", 4, INT64_MIN, NULL));
    CHECK(count_all(e) == 34);

    /* mem.* before ts 4 (exclusive): 1..3 go, 4 stays. */
    OK(flowdb_engine_delete_prefix_before(e, (const uint8_t *)"mem.", 4, 4, NULL));
    CHECK(ts_bits(e, "mem.a") == span(4, 10));
    CHECK(ts_bits(e, "cpu.c") == span(1, 10));
    /* Every key before ts 2: ts 1 goes. */
    OK(flowdb_engine_delete_before(e, 2, NULL));
    CHECK(ts_bits(e, "cpu.a") == (span(2, 2) | span(6, 10)));
    CHECK(ts_bits(e, "cpu.b") == (span(2, 2) | span(6, 10)));
    CHECK(ts_bits(e, "cpu.c") == span(2, 10));
    CHECK(ts_bits(e, "mem.a") == span(4, 10));
    CHECK(count_all(e) == 28);
    flowdb_records_t *l = NULL;
    OK(flowdb_engine_get(e, (const uint8_t *)"cpu.a", 5, 3, &l, NULL));
    CHECK(flowdb_records_len(l) == 0);
    flowdb_records_free(l);
    OK(flowdb_engine_get(e, (const uint8_t *)"cpu.c", 5, 3, &l, NULL));
    CHECK(flowdb_records_len(l) == 1);
    flowdb_records_free(l);
    OK(flowdb_engine_get_latest(e, (const uint8_t *)"mem.a", 5, &l, NULL));
    flowdb_record_view_t v;
    CHECK(flowdb_records_len(l) == 1 && flowdb_records_at(l, 0, &v, NULL) == FLOWDB_OK && v.ts == 10);
    flowdb_records_free(l);

    /* The same after a flush and a full compaction, and after a reopen. */
    OK(flowdb_engine_flush(e, NULL));
    OK(flowdb_engine_trigger_compaction(e, NULL, NULL));
    CHECK(count_all(e) == 28);
    CHECK(ts_bits(e, "cpu.a") == (span(2, 2) | span(6, 10)));
    CHECK(ts_bits(e, "mem.a") == span(4, 10));
    OK(flowdb_engine_shutdown(e, NULL));
    CHECK(flowdb_engine_delete_before(e, 5, NULL) == FLOWDB_CLOSED);
    CHECK(flowdb_engine_delete_time_range(e, (const uint8_t *)"a", 1, (const uint8_t *)"b", 1, 1, 2, NULL) == FLOWDB_CLOSED);
    CHECK(flowdb_engine_enforce_retention(e, NULL, NULL, NULL) == FLOWDB_CLOSED);
    flowdb_engine_free(e);
    e = open_engine(dir, false);
    CHECK(count_all(e) == 28);
    CHECK(ts_bits(e, "cpu.b") == (span(2, 2) | span(6, 10)));
    CHECK(ts_bits(e, "cpu.c") == span(2, 10));
    CHECK(ts_bits(e, "mem.a") == span(4, 10));

    /* The batch forms, applied in order with a put after the deletes it would fall
     * in (operations apply in order: the put stays). */
    const char *more[3] = {"dsk.a", "dsk.b", "net.a"};
    write_points(e, more, 3, 1, 10);
    flowdb_write_batch_t *b = flowdb_write_batch_new();
    OK(flowdb_write_batch_delete_time_range(b, (const uint8_t *)"dsk.a", 5, (const uint8_t *)"dsk.b", 5, 5, 7, NULL));
    OK(flowdb_write_batch_delete_prefix_before(b, (const uint8_t *)"net.", 4, 9, NULL));
    OK(flowdb_write_batch_delete_before(b, 3, NULL));
    OK(flowdb_write_batch_delete_before(b, INT64_MIN, NULL)); /* deletes nothing, adds nothing */
    OK(flowdb_write_batch_delete_prefix_before(b, (const uint8_t *)"x", 1, INT64_MIN, NULL));
    flowdb_record_view_t back = rec("dsk.a", 6, "back");
    OK(flowdb_write_batch_put(b, &back, NULL));
    CHECK(flowdb_write_batch_count(b) == 4);
    CHECK(flowdb_write_batch_delete_time_range(NULL, (const uint8_t *)"a", 1, (const uint8_t *)"b", 1, 1, 2, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_write_batch_delete_before(NULL, 1, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_write_batch_delete_prefix_before(b, NULL, 1, 1, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_engine_write(e, b, false, NULL));
    CHECK(ts_bits(e, "dsk.a") == (span(3, 4) | span(6, 6) | span(8, 10)));
    CHECK(ts_bits(e, "dsk.b") == span(3, 10));
    CHECK(ts_bits(e, "net.a") == span(9, 10));
    CHECK(ts_bits(e, "cpu.c") == span(3, 10));
    OK(flowdb_engine_get(e, (const uint8_t *)"dsk.a", 5, 6, &l, NULL));
    CHECK(flowdb_records_len(l) == 1 && flowdb_records_at(l, 0, &v, NULL) == FLOWDB_OK && v.value_len == 4 && memcmp(v.value, "back", 4) == 0);
    flowdb_records_free(l);
    /* A reversed time range in a batch fails the whole write, naming it. */
    flowdb_write_batch_clear(b);
    flowdb_record_view_t never = rec("dsk.a", 1, "never written");
    OK(flowdb_write_batch_put(b, &never, NULL));
    OK(flowdb_write_batch_delete_time_range(b, (const uint8_t *)"a", 1, (const uint8_t *)"z", 1, 9, 1, NULL));
    err = NULL;
    CHECK(flowdb_engine_write(e, b, false, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "batch operation 1") != NULL && strstr(flowdb_error_message(err), "ts_start") != NULL);
    flowdb_error_free(err);
    CHECK(ts_bits(e, "dsk.a") == (span(3, 4) | span(6, 6) | span(8, 10)));
    flowdb_write_batch_free(b);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

static int64_t now_micros(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Retention by age: with a limit of 30 days, enforce_retention deletes the points
 * written 40 days ago (and the table holding only them) and keeps those of a day
 * and an hour ago; a second call has nothing due. 0 means no limit. */
static void test_retention(const char *dir, const char *dir2) {
    const int64_t day = 86400LL * 1000000;
    int64_t now = now_micros();
    int64_t old_ts[3] = {now - 45 * day, now - 41 * day, now - 40 * day};
    int64_t new_ts[2] = {now - day, now - day / 24};
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    OK(flowdb_options_set_retention_max_age_secs(o, 30 * 86400, NULL));
    OK(flowdb_options_set_retention_max_bytes(o, 0, NULL)); /* no limit */
    CHECK(flowdb_options_set_retention_max_age_secs(NULL, 1, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_options_set_retention_max_bytes(NULL, 1, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_engine_t *e = NULL;
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    const char *keys[2] = {"cpu.a", "cpu.b"};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 3; i++) {
            flowdb_record_view_t r = rec(keys[k], old_ts[i], "old");
            OK(flowdb_engine_write_batch(e, &r, 1, NULL));
        }
    OK(flowdb_engine_flush(e, NULL)); /* a table of old points only */
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 2; i++) {
            flowdb_record_view_t r = rec(keys[k], new_ts[i], "new");
            OK(flowdb_engine_write_batch(e, &r, 1, NULL));
        }
    CHECK(count_all(e) == 10);
    bool has = false;
    int64_t cutoff = 0;
    OK(flowdb_engine_enforce_retention(e, &has, &cutoff, NULL));
    CHECK(has);
    CHECK(cutoff <= now_micros() - 30 * day && cutoff > now - 31 * day);
    CHECK(count_all(e) == 4);
    for (int k = 0; k < 2; k++) {
        flowdb_records_t *l = NULL;
        for (int i = 0; i < 3; i++) {
            OK(flowdb_engine_get(e, (const uint8_t *)keys[k], 5, old_ts[i], &l, NULL));
            CHECK(flowdb_records_len(l) == 0);
            flowdb_records_free(l);
        }
        for (int i = 0; i < 2; i++) {
            OK(flowdb_engine_get(e, (const uint8_t *)keys[k], 5, new_ts[i], &l, NULL));
            flowdb_record_view_t v;
            CHECK(flowdb_records_len(l) == 1 && flowdb_records_at(l, 0, &v, NULL) == FLOWDB_OK && v.value_len == 3 && memcmp(v.value, "new", 3) == 0);
            flowdb_records_free(l);
        }
    }
    flowdb_stats_t s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    OK(flowdb_engine_stats(e, &s, NULL));
    CHECK(s.total_retention_deletes == 1);
    CHECK(s.total_tables_deleted >= 1); /* the table of old points, dropped whole */
    /* Nothing new is due: has_cutoff false, cutoff INT64_MIN. */
    has = true;
    cutoff = 0;
    OK(flowdb_engine_enforce_retention(e, &has, &cutoff, NULL));
    CHECK(!has && cutoff == INT64_MIN);
    OK(flowdb_engine_enforce_retention(e, NULL, NULL, NULL));
    OK(flowdb_engine_stats(e, &s, NULL));
    CHECK(s.total_retention_deletes == 1);
    CHECK(count_all(e) == 4);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);

    /* Without limits (the default, or 0) nothing is ever due. */
    o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir2, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    OK(flowdb_options_set_retention_max_age_secs(o, 0, NULL));
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    flowdb_record_view_t r = rec("cpu.a", old_ts[0], "old");
    OK(flowdb_engine_write_batch(e, &r, 1, NULL));
    has = true;
    OK(flowdb_engine_enforce_retention(e, &has, &cutoff, NULL));
    CHECK(!has && cutoff == INT64_MIN);
    CHECK(count_all(e) == 1);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

/* Newest first, limits, seeks and series: three keys k.a < k.b < k.c with ts 1..10
 * each, ts 1..5 in a table and 6..10 in the memtable. Sequences are compared exactly:
 * each record as (last key byte, ts). */
#define SEQ_MAX 64
struct seq {
    size_t n;
    char key[SEQ_MAX];
    int64_t ts[SEQ_MAX];
};

static void seq_add(struct seq *s, const flowdb_record_view_t *v) {
    CHECK(v->key_len == 3 && memcmp(v->key, "k.", 2) == 0);
    CHECK(v->value_len == 3 && v->value[0] == v->key[2]); /* value "<key byte><ts>" */
    if (s->n < SEQ_MAX) {
        s->key[s->n] = (char)v->key[2];
        s->ts[s->n] = v->ts;
    }
    s->n++;
}

/* The records of a scan from its current position to its end. */
static struct seq drain(flowdb_iter_t *it) {
    struct seq s = {0};
    bool has = false;
    flowdb_record_view_t v;
    while (flowdb_iter_next(it, &has, NULL) == FLOWDB_OK && has) {
        OK(flowdb_iter_record(it, &v, NULL));
        seq_add(&s, &v);
    }
    CHECK(!has);
    return s;
}

/* The records of a list (freed). */
static struct seq of_list(flowdb_records_t *l) {
    struct seq s = {0};
    flowdb_record_view_t v;
    for (size_t i = 0; i < flowdb_records_len(l); i++) {
        OK(flowdb_records_at(l, i, &v, NULL));
        seq_add(&s, &v);
    }
    flowdb_records_free(l);
    return s;
}

/* The sequence of keys from..to (by last byte, stepping by `dir`), each with ts
 * ts_from..ts_to (stepping by `dir`), starting at (first_key, first_ts) and at most
 * `max` records. */
static struct seq expected(char from, char to, int64_t first_ts, int dir, size_t max) {
    struct seq s = {0};
    for (char k = from; dir > 0 ? k <= to : k >= to; k = (char)(k + dir)) {
        int64_t t0 = k == from ? first_ts : (dir > 0 ? 1 : 10);
        for (int64_t t = t0; t >= 1 && t <= 10; t += dir) {
            if (s.n == max || s.n == SEQ_MAX) return s;
            s.key[s.n] = k;
            s.ts[s.n] = t;
            s.n++;
        }
    }
    return s;
}

static bool same(struct seq a, struct seq b) {
    if (a.n != b.n) {
        fprintf(stderr, "  %zu records, want %zu\n", a.n, b.n);
        return false;
    }
    for (size_t i = 0; i < a.n && i < SEQ_MAX; i++)
        if (a.key[i] != b.key[i] || a.ts[i] != b.ts[i]) {
            fprintf(stderr, "  record %zu is k.%c@%lld, want k.%c@%lld\n", i, a.key[i], (long long)a.ts[i], b.key[i], (long long)b.ts[i]);
            return false;
        }
    return true;
}

static struct seq query_seq(flowdb_engine_t *e, const flowdb_range_t *r) {
    flowdb_records_t *l = NULL;
    OK(flowdb_engine_query(e, r, &l, NULL));
    return of_list(l);
}

static struct seq scan_seq(flowdb_engine_t *e, const flowdb_range_t *r) {
    flowdb_iter_t *it = NULL;
    OK(flowdb_engine_scan(e, r, &it, NULL));
    struct seq s = drain(it);
    flowdb_iter_free(it);
    return s;
}

static void write_k(flowdb_engine_t *e, int64_t from, int64_t to) {
    const char *keys[3] = {"k.a", "k.b", "k.c"};
    for (int k = 0; k < 3; k++)
        for (int64_t ts = from; ts <= to; ts++) {
            char value[4];
            snprintf(value, sizeof value, "%c%02d", keys[k][2], (int)ts);
            flowdb_record_view_t r = rec(keys[k], ts, value);
            OK(flowdb_engine_write_batch(e, &r, 1, NULL));
        }
}

/* Checks a series list: `n` series named by their last byte in `names`, each with
 * 10 points from ts 1 to 10; frees it. */
static void check_series(flowdb_series_t *l, const char *names) {
    size_t n = strlen(names);
    CHECK(flowdb_series_len(l) == n);
    for (size_t i = 0; i < n && i < flowdb_series_len(l); i++) {
        flowdb_series_view_t v;
        OK(flowdb_series_at(l, i, &v, NULL));
        CHECK(v.key_len == 3 && memcmp(v.key, "k.", 2) == 0 && v.key[2] == (uint8_t)names[i]);
        CHECK(v.points == 10 && v.first_ts == 1 && v.last_ts == 10);
    }
    flowdb_series_free(l);
}

static void test_newest_first_seek_series(const char *dir) {
    flowdb_engine_t *e = open_engine(dir, false);
    write_k(e, 1, 5);
    OK(flowdb_engine_flush(e, NULL));
    write_k(e, 6, 10);

    /* Reverse: exactly descending (key, ts), from the memtable and the table. */
    flowdb_range_t *r = flowdb_range_all();
    CHECK(same(query_seq(e, r), expected('a', 'c', 1, 1, 30)));
    OK(flowdb_range_set_reverse(r, true, NULL));
    CHECK(same(query_seq(e, r), expected('c', 'a', 10, -1, 30)));
    CHECK(same(scan_seq(e, r), expected('c', 'a', 10, -1, 30)));
    /* Reverse with limit 4: the 4 greatest. */
    OK(flowdb_range_set_limit(r, 4, NULL));
    CHECK(same(query_seq(e, r), expected('c', 'a', 10, -1, 4)));
    CHECK(same(scan_seq(e, r), expected('c', 'a', 10, -1, 4)));
    /* Forward with limit 3: the 3 smallest; limit 0: none; UINT64_MAX: all. */
    OK(flowdb_range_set_reverse(r, false, NULL));
    OK(flowdb_range_set_limit(r, 3, NULL));
    CHECK(same(query_seq(e, r), expected('a', 'c', 1, 1, 3)));
    CHECK(same(scan_seq(e, r), expected('a', 'c', 1, 1, 3)));
    OK(flowdb_range_set_limit(r, 0, NULL));
    CHECK(query_seq(e, r).n == 0);
    CHECK(scan_seq(e, r).n == 0);
    OK(flowdb_range_set_limit(r, UINT64_MAX, NULL));
    CHECK(same(query_seq(e, r), expected('a', 'c', 1, 1, 30)));
    /* Key and time ranges in reverse: k.b..k.c, ts 3..4. */
    flowdb_range_t *kt = flowdb_range_key_time((const uint8_t *)"k.b", 3, (const uint8_t *)"k.c", 3, 3, 4);
    OK(flowdb_range_set_reverse(kt, true, NULL));
    struct seq got = query_seq(e, kt);
    CHECK(got.n == 4 && got.key[0] == 'c' && got.ts[0] == 4 && got.key[1] == 'c' && got.ts[1] == 3 && got.key[2] == 'b' && got.ts[2] == 4 && got.key[3] == 'b' && got.ts[3] == 3);
    flowdb_range_free(kt);
    CHECK(flowdb_range_set_reverse(NULL, true, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_error_t *err = NULL;
    CHECK(flowdb_range_set_limit(NULL, 1, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "range") != NULL);
    flowdb_error_free(err);

    /* Seek forwards (Seek) to the middle of the second key, after reading two. */
    flowdb_iter_t *it = NULL;
    OK(flowdb_engine_scan(e, r, &it, NULL));
    bool has = false;
    OK(flowdb_iter_next(it, &has, NULL));
    OK(flowdb_iter_next(it, &has, NULL));
    CHECK(has);
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.b", 3, 5, NULL));
    CHECK(same(drain(it), expected('b', 'c', 5, 1, 30)));
    /* After the end, a seek makes it yield again; an absent key: the next one. */
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.bb", 4, 0, NULL));
    CHECK(same(drain(it), expected('c', 'c', 1, 1, 30)));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.c", 3, 11, NULL)); /* past k.c's last */
    CHECK(drain(it).n == 0);
    CHECK(flowdb_iter_seek(NULL, (const uint8_t *)"k", 1, 0, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_iter_seek(it, NULL, 2, 0, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_iter_free(it);

    /* Seek in reverse (SeekForPrev): at or before the position, then backwards. */
    OK(flowdb_range_set_reverse(r, true, NULL));
    OK(flowdb_engine_scan(e, r, &it, NULL));
    OK(flowdb_iter_next(it, &has, NULL));
    CHECK(has);
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.b", 3, 5, NULL));
    CHECK(same(drain(it), expected('b', 'a', 5, -1, 30)));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.bb", 4, 0, NULL)); /* absent: k.b's newest */
    CHECK(same(drain(it), expected('b', 'a', 10, -1, 30)));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.a", 3, 0, NULL)); /* before k.a's first */
    CHECK(drain(it).n == 0);
    flowdb_iter_free(it);

    /* Positions outside the range k.b..k.c: before it restarts, beyond it ends. */
    flowdb_range_t *kb = flowdb_range_key((const uint8_t *)"k.b", 3, (const uint8_t *)"k.c", 3);
    OK(flowdb_engine_scan(e, kb, &it, NULL));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.a", 3, 3, NULL)); /* before the start */
    CHECK(same(drain(it), expected('b', 'c', 1, 1, 30)));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.d", 3, 0, NULL)); /* beyond the end */
    CHECK(drain(it).n == 0);
    flowdb_iter_free(it);
    OK(flowdb_range_set_reverse(kb, true, NULL));
    OK(flowdb_engine_scan(e, kb, &it, NULL));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.z", 3, 0, NULL)); /* before, in reverse */
    CHECK(same(drain(it), expected('c', 'b', 10, -1, 30)));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.a", 3, 99, NULL)); /* beyond, in reverse */
    CHECK(drain(it).n == 0);
    flowdb_iter_free(it);

    /* The limit counts again from each seek: pages of 3. */
    OK(flowdb_range_set_reverse(kb, false, NULL));
    OK(flowdb_range_set_limit(kb, 3, NULL));
    OK(flowdb_engine_scan(e, kb, &it, NULL));
    CHECK(same(drain(it), expected('b', 'c', 1, 1, 3)));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.b", 3, 9, NULL));
    CHECK(same(drain(it), expected('b', 'c', 9, 1, 3))); /* b9, b10, c1 */
    flowdb_iter_free(it);
    flowdb_range_free(kb);

    /* Series: the memtable's and the table's halves merged, then after a full
     * compaction; pages; no match. */
    flowdb_series_t *sl = NULL;
    OK(flowdb_engine_series(e, NULL, 0, NULL, 0, UINT64_MAX, &sl, NULL));
    check_series(sl, "abc");
    OK(flowdb_engine_flush(e, NULL));
    OK(flowdb_engine_trigger_compaction(e, NULL, NULL));
    OK(flowdb_engine_series(e, (const uint8_t *)"", 0, NULL, 0, UINT64_MAX, &sl, NULL));
    check_series(sl, "abc");
    OK(flowdb_engine_series(e, (const uint8_t *)"k.", 2, NULL, 0, 2, &sl, NULL));
    check_series(sl, "ab");
    OK(flowdb_engine_series(e, (const uint8_t *)"k.", 2, (const uint8_t *)"k.b", 3, 2, &sl, NULL));
    check_series(sl, "c");
    OK(flowdb_engine_series(e, (const uint8_t *)"k.", 2, (const uint8_t *)"k.c", 3, 2, &sl, NULL));
    check_series(sl, "");
    OK(flowdb_engine_series(e, (const uint8_t *)"k.c", 3, NULL, 0, UINT64_MAX, &sl, NULL));
    check_series(sl, "c");
    OK(flowdb_engine_series(e, (const uint8_t *)"nope", 4, NULL, 0, UINT64_MAX, &sl, NULL));
    check_series(sl, "");
    OK(flowdb_engine_series(e, NULL, 0, NULL, 0, 0, &sl, NULL));
    check_series(sl, "");
    flowdb_series_view_t sv;
    CHECK(flowdb_series_at(NULL, 0, &sv, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_series_len(NULL) == 0);
    sl = NULL;
    CHECK(flowdb_engine_series(e, NULL, 0, NULL, 0, 1, NULL, NULL) == FLOWDB_INVALID_ARGUMENT);
    CHECK(flowdb_engine_series(NULL, NULL, 0, NULL, 0, 1, &sl, NULL) == FLOWDB_INVALID_ARGUMENT && sl == NULL);
    /* Reverse after the compaction: one table. */
    CHECK(same(query_seq(e, r), expected('c', 'a', 10, -1, 30)));

    /* A snapshot: its reverse query, scan and series ignore later writes; a seek in
     * its scan still reads it. */
    flowdb_snapshot_t *snap = NULL;
    OK(flowdb_engine_snapshot(e, &snap, NULL));
    OK(flowdb_engine_scan(e, r, &it, NULL)); /* reverse, over the engine as of now */
    flowdb_record_view_t late = rec("k.b", 11, "b11");
    OK(flowdb_engine_write_batch(e, &late, 1, NULL));
    late = rec("k.d", 1, "d01");
    OK(flowdb_engine_write_batch(e, &late, 1, NULL));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.b", 3, INT64_MAX, NULL));
    CHECK(same(drain(it), expected('b', 'a', 10, -1, 30))); /* no b11 */
    flowdb_iter_free(it);
    OK(flowdb_range_set_limit(r, 4, NULL));
    flowdb_records_t *l = NULL;
    OK(flowdb_snapshot_query(snap, r, &l, NULL));
    CHECK(same(of_list(l), expected('c', 'a', 10, -1, 4)));
    OK(flowdb_snapshot_scan(snap, r, &it, NULL));
    OK(flowdb_iter_seek(it, (const uint8_t *)"k.b", 3, 100, NULL));
    CHECK(same(drain(it), expected('b', 'a', 10, -1, 4)));
    flowdb_iter_free(it);
    OK(flowdb_snapshot_series(snap, NULL, 0, NULL, 0, UINT64_MAX, &sl, NULL));
    check_series(sl, "abc");
    OK(flowdb_snapshot_series(snap, (const uint8_t *)"k.", 2, (const uint8_t *)"k.a", 3, 1, &sl, NULL));
    check_series(sl, "b");
    CHECK(flowdb_snapshot_series(NULL, NULL, 0, NULL, 0, 1, &sl, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_engine_series(e, (const uint8_t *)"k.d", 3, NULL, 0, UINT64_MAX, &sl, NULL));
    CHECK(flowdb_series_len(sl) == 1);
    flowdb_series_free(sl);
    flowdb_range_free(r);
    OK(flowdb_engine_shutdown(e, NULL));
    CHECK(flowdb_engine_series(e, NULL, 0, NULL, 0, 1, &sl, NULL) == FLOWDB_CLOSED);
    CHECK(flowdb_snapshot_series(snap, NULL, 0, NULL, 0, 1, &sl, NULL) == FLOWDB_CLOSED);
    flowdb_snapshot_free(snap);
    flowdb_engine_free(e);
}

/* What a last_n_visit callback was given: each (ts, value) copied, in call order. It
 * stops (returns false) after `stop_after` calls when that is not 0. */
struct visited {
    size_t calls, stop_after;
    int64_t ts[300];
    size_t len[300];
    char value[300][16];
};
static bool visit(int64_t ts, const uint8_t *value, size_t value_len, void *user) {
    struct visited *v = user;
    CHECK(v->calls < 300 && value_len < 16);
    if (v->calls < 300 && value_len < 16) {
        v->ts[v->calls] = ts;
        v->len[v->calls] = value_len;
        if (value_len) memcpy(v->value[v->calls], value, value_len);
    }
    v->calls++;
    return v->stop_after == 0 || v->calls < v->stop_after;
}

/* The visit is exactly the list: same count, order, ts and value bytes. */
static bool same_as_list(const struct visited *v, uint64_t handed, flowdb_records_t *l) {
    bool same = v->calls == handed && v->calls == flowdb_records_len(l);
    for (size_t i = 0; same && i < v->calls; i++) {
        flowdb_record_view_t r;
        OK(flowdb_records_at(l, i, &r, NULL));
        same = r.ts == v->ts[i] && r.value_len == v->len[i] && (r.value_len == 0 || memcmp(r.value, v->value[i], r.value_len) == 0);
    }
    flowdb_records_free(l);
    return same;
}

/* last_n_visit against last_n on a series half flushed, half in memory; n = 0; a
 * callback stopping after 2; a NULL callback; the snapshot form not seeing a later
 * write. */
static void test_last_n_visit(const char *dir) {
    flowdb_engine_t *e = open_engine(dir, false);
    char value[16];
    for (int ts = 1; ts <= 200; ts++) {
        /* values of 4 to 9 bytes, every 13th empty; neighbouring keys on both sides */
        int len = snprintf(value, sizeof value, "v%d-%d", ts, ts * 7);
        if (ts % 13 == 0) len = 0;
        flowdb_record_view_t r = rec("lv", ts, "");
        r.value = (const uint8_t *)value;
        r.value_len = (size_t)len;
        flowdb_record_view_t other[2] = {rec("lu", ts, "before"), rec("lw", ts, "after")};
        OK(flowdb_engine_write_batch(e, &r, 1, NULL));
        OK(flowdb_engine_write_batch(e, other, 2, NULL));
        if (ts == 100) OK(flowdb_engine_flush(e, NULL));
    }
    const uint64_t ns[] = {1, 2, 60, 100, 150, 200, 1000};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        struct visited v = {0};
        uint64_t handed = 77;
        OK(flowdb_engine_last_n_visit(e, (const uint8_t *)"lv", 2, ns[i], visit, &v, &handed, NULL));
        flowdb_records_t *l = NULL;
        OK(flowdb_engine_last_n(e, (const uint8_t *)"lv", 2, ns[i], &l, NULL));
        CHECK(handed == (ns[i] < 200 ? ns[i] : 200));
        CHECK(v.calls > 0 && v.ts[0] == 200 && v.ts[v.calls - 1] == 201 - (int64_t)v.calls);
        CHECK(same_as_list(&v, handed, l));
    }
    /* n = 0 and an absent key: no call. */
    struct visited v = {0};
    uint64_t handed = 77;
    OK(flowdb_engine_last_n_visit(e, (const uint8_t *)"lv", 2, 0, visit, &v, &handed, NULL));
    CHECK(handed == 0 && v.calls == 0);
    OK(flowdb_engine_last_n_visit(e, (const uint8_t *)"lx", 2, 10, visit, &v, &handed, NULL));
    CHECK(handed == 0 && v.calls == 0);
    /* Stopping after 2: no third call, even with more wanted. */
    v.stop_after = 2;
    OK(flowdb_engine_last_n_visit(e, (const uint8_t *)"lv", 2, 150, visit, &v, &handed, NULL));
    CHECK(handed == 2 && v.calls == 2 && v.ts[0] == 200 && v.ts[1] == 199);
    /* A NULL callback: INVALID_ARGUMENT naming it, handed_out untouched. */
    flowdb_error_t *err = NULL;
    handed = 77;
    CHECK(flowdb_engine_last_n_visit(e, (const uint8_t *)"lv", 2, 5, NULL, &v, &handed, &err) == FLOWDB_INVALID_ARGUMENT);
    CHECK(err && strstr(flowdb_error_message(err), "callback") != NULL);
    CHECK(handed == 77);
    flowdb_error_free(err);
    /* NULL handed_out: not reported. */
    memset(&v, 0, sizeof v);
    OK(flowdb_engine_last_n_visit(e, (const uint8_t *)"lv", 2, 3, visit, &v, NULL, NULL));
    CHECK(v.calls == 3);
    /* The snapshot form: the snapshot's records, not a write made after it. */
    flowdb_snapshot_t *snap = NULL;
    OK(flowdb_engine_snapshot(e, &snap, NULL));
    flowdb_record_view_t later = rec("lv", 201, "later");
    OK(flowdb_engine_write_batch(e, &later, 1, NULL));
    memset(&v, 0, sizeof v);
    OK(flowdb_snapshot_last_n_visit(snap, (const uint8_t *)"lv", 2, 150, visit, &v, &handed, NULL));
    flowdb_records_t *l = NULL;
    OK(flowdb_snapshot_last_n(snap, (const uint8_t *)"lv", 2, 150, &l, NULL));
    CHECK(handed == 150 && v.ts[0] == 200);
    CHECK(same_as_list(&v, handed, l));
    memset(&v, 0, sizeof v);
    OK(flowdb_engine_last_n_visit(e, (const uint8_t *)"lv", 2, 1, visit, &v, &handed, NULL));
    CHECK(handed == 1 && v.ts[0] == 201 && v.len[0] == 5 && memcmp(v.value[0], "later", 5) == 0);
    v.stop_after = 2;
    v.calls = 0;
    OK(flowdb_snapshot_last_n_visit(snap, (const uint8_t *)"lv", 2, 10, visit, &v, &handed, NULL));
    CHECK(handed == 2 && v.ts[0] == 200 && v.ts[1] == 199);
    CHECK(flowdb_snapshot_last_n_visit(snap, (const uint8_t *)"lv", 2, 10, NULL, &v, &handed, NULL) == FLOWDB_INVALID_ARGUMENT);
    OK(flowdb_engine_shutdown(e, NULL));
    /* A snapshot outliving its engine: CLOSED, and no call. */
    v.calls = 0;
    CHECK(flowdb_snapshot_last_n_visit(snap, (const uint8_t *)"lv", 2, 10, visit, &v, &handed, NULL) == FLOWDB_CLOSED);
    CHECK(v.calls == 0);
    flowdb_snapshot_free(snap);
    flowdb_engine_free(e);
}

/* A last_n_visit callback that reads the same engine while another thread's shutdown
 * waits for the walk to end: the nested read answers (OK: the engine is still
 * open), the walk finishes, then the shutdown. (The handle's lock once let a waiting shutdown block
 * the nested read, and the walk never ended: alarm turns such a hang into a failure.) */
struct nested {
    flowdb_engine_t *e;
    volatile int walking, shutting_down;
    int nested_status;
};
static void *shut_down(void *arg) {
    struct nested *n = arg;
    while (!n->walking) usleep(1000); /* the walk holds the handle first */
    n->shutting_down = 1;
    CHECK(flowdb_engine_shutdown(n->e, NULL) == FLOWDB_OK);
    return NULL;
}
static bool visit_nested(int64_t ts, const uint8_t *value, size_t value_len, void *user) {
    (void)ts, (void)value, (void)value_len;
    struct nested *n = user;
    n->walking = 1;
    while (!n->shutting_down) usleep(1000);
    usleep(200000); /* the shutdown is waiting for the handle by now */
    flowdb_records_t *l = NULL;
    n->nested_status = flowdb_engine_get_latest(n->e, (const uint8_t *)"nv", 2, &l, NULL);
    flowdb_records_free(l);
    return false;
}
static void test_visit_calls_back_during_shutdown(const char *dir) {
    struct nested n = {open_engine(dir, false), 0, 0, -1};
    flowdb_record_view_t r = rec("nv", 1, "one");
    OK(flowdb_engine_write_batch(n.e, &r, 1, NULL));
    pthread_t t;
    alarm(60);
    CHECK(pthread_create(&t, NULL, shut_down, &n) == 0);
    uint64_t handed = 0;
    OK(flowdb_engine_last_n_visit(n.e, (const uint8_t *)"nv", 2, 1, visit_nested, &n, &handed, NULL));
    pthread_join(t, NULL);
    alarm(0);
    CHECK(handed == 1 && n.nested_status == FLOWDB_OK);
    /* After the shutdown: CLOSED, the callback not called. */
    CHECK(flowdb_engine_last_n_visit(n.e, (const uint8_t *)"nv", 2, 1, visit_nested, &n, &handed, NULL) == FLOWDB_CLOSED);
    flowdb_engine_free(n.e);
}

/* Checks that every sample line (not # HELP/# TYPE) of `text` begins its labels with
 * `labels` (e.g. "{db=\"a\""); returns the number of sample lines. */
static int labelled_samples(const char *text, const char *labels) {
    int n = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 0 && line[0] != '#') {
            const char *brace = memchr(line, '{', len);
            CHECK(brace != NULL && strncmp(brace, labels, strlen(labels)) == 0);
            n++;
        }
        line += len + (end != NULL);
    }
    return n;
}

/* Metrics labels: two engines in one process told apart (one options object, the
 * labels cleared in between), quantiles after the constant labels, values escaped,
 * bad names refused at open. */
static void test_metrics_labels(const char *dir_a, const char *dir_b) {
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_auto_background(o, false, NULL));
    OK(flowdb_options_set_data_dir(o, dir_a, NULL));
    OK(flowdb_options_add_metrics_label(o, "db", "a", NULL));
    OK(flowdb_options_add_metrics_label(o, "role", "primary", NULL));
    flowdb_engine_t *a = NULL, *b = NULL;
    OK(flowdb_engine_open(o, &a, NULL));
    OK(flowdb_options_set_data_dir(o, dir_b, NULL));
    OK(flowdb_options_add_metrics_label(o, "db", "b", NULL)); /* "db" twice */
    flowdb_error_t *err = NULL;
    CHECK(flowdb_engine_open(o, &b, &err) == FLOWDB_INVALID_ARGUMENT && b == NULL);
    CHECK(err && strstr(flowdb_error_message(err), "metrics_labels[2]: label name \"db\" is given twice"));
    flowdb_error_free(err);
    OK(flowdb_options_clear_metrics_labels(o, NULL));
    OK(flowdb_options_add_metrics_label(o, "db", "b \"2\"\n\\", NULL));
    OK(flowdb_engine_open(o, &b, NULL));
    flowdb_record_view_t r = rec("k", 1, "v");
    OK(flowdb_engine_write_batch(a, &r, 1, NULL));
    char *ta = NULL, *tb = NULL;
    OK(flowdb_engine_metrics_text(a, &ta, NULL, NULL));
    OK(flowdb_engine_metrics_text(b, &tb, NULL, NULL));
    int na = labelled_samples(ta, "{db=\"a\",role=\"primary\"");
    CHECK(na > 30 && labelled_samples(tb, "{db=\"b \\\"2\\\"\\n\\\\\"") == na);
    CHECK(strstr(ta, "flowdb_records_written_total{db=\"a\",role=\"primary\"} 1\n") != NULL);
    CHECK(strstr(ta, "flowdb_write_latency_seconds{db=\"a\",role=\"primary\",quantile=\"0.5\"} ") != NULL);
    CHECK(strstr(tb, "flowdb_records_written_total{db=\"b \\\"2\\\"\\n\\\\\"} 0\n") != NULL);
    flowdb_string_free(ta);
    flowdb_string_free(tb);
    OK(flowdb_engine_shutdown(a, NULL));
    OK(flowdb_engine_shutdown(b, NULL));
    flowdb_engine_free(a);
    flowdb_engine_free(b);
    const char *bad[] = {"1db", "__x", "quantile", "le", "d-b", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        OK(flowdb_options_clear_metrics_labels(o, NULL));
        OK(flowdb_options_add_metrics_label(o, bad[i], "v", NULL));
        err = NULL;
        CHECK(flowdb_engine_open(o, &a, &err) == FLOWDB_INVALID_ARGUMENT);
        char want[64];
        snprintf(want, sizeof want, "label name \"%s\"", bad[i]);
        CHECK(err && strstr(flowdb_error_message(err), want));
        flowdb_error_free(err);
    }
    flowdb_options_free(o);
}

/* A scan that meets a damaged block fails, and leaves no current record: the one
 * before the failed step used to stay readable as if it had not been taken. */
/* The number a metrics line `name value` gives (-1 when missing). */
static double metric_value(flowdb_engine_t *e, const char *name) {
    char *text = NULL;
    OK(flowdb_engine_metrics_text(e, &text, NULL, NULL));
    char want[128];
    snprintf(want, sizeof want, "\n%s ", name);
    const char *at = text ? strstr(text, want) : NULL;
    double v = at ? strtod(at + strlen(want), NULL) : -1;
    flowdb_string_free(text);
    return v;
}

/* Memtables charged to the block cache: its capacity falls as they fill and comes
 * back when a flush empties them. */
static void test_memtables_in_block_cache(const char *dir) {
    flowdb_options_t *o = flowdb_options_new();
    OK(flowdb_options_set_data_dir(o, dir, NULL));
    OK(flowdb_options_set_auto_background(o, false, NULL));
    OK(flowdb_options_set_block_cache_capacity_mb(o, 16, NULL));
    OK(flowdb_options_set_memtables_in_block_cache(o, true, NULL));
    CHECK(flowdb_options_set_memtables_in_block_cache(NULL, true, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_engine_t *e = NULL;
    OK(flowdb_engine_open(o, &e, NULL));
    flowdb_options_free(o);
    const double mib = 1 << 20;
    CHECK(metric_value(e, "flowdb_block_cache_capacity_bytes") == 16 * mib);
    char key[32], value[256];
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "s%03d", i % 100);
        flowdb_record_view_t r = rec(key, i, value);
        OK(flowdb_engine_write_batch(e, &r, 1, NULL));
    }
    double mem = metric_value(e, "flowdb_memtable_bytes");
    double cap = metric_value(e, "flowdb_block_cache_capacity_bytes");
    CHECK(mem > 2 * mib && cap < 16 * mib - mem + mib && cap > 16 * mib - mem - mib);
    OK(flowdb_engine_flush(e, NULL));
    CHECK(metric_value(e, "flowdb_block_cache_capacity_bytes") == 16 * mib);
    OK(flowdb_engine_shutdown(e, NULL));
    flowdb_engine_free(e);
}

static void test_iter_error_clears_the_record(const char *dir) {
    flowdb_engine_t *e = open_engine(dir, false);
    char key[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        flowdb_record_view_t r = rec(key, 1, "a value of some length, to fill blocks");
        OK(flowdb_engine_write_batch(e, &r, 1, NULL));
    }
    OK(flowdb_engine_shutdown(e, NULL)); /* one table */
    flowdb_engine_free(e);
    char cmd[700];
    /* 256 bytes of 0xff in the middle of the table */
    snprintf(cmd, sizeof cmd,
             "f=$(ls '%s'/*.sst | head -1); n=$(stat -c %%s \"$f\"); "
             "head -c 256 /dev/zero | tr '\\0' '\\377' | dd of=\"$f\" bs=1 seek=$((n / 3)) conv=notrunc status=none",
             dir);
    CHECK(system(cmd) == 0);
    e = open_engine(dir, false);
    flowdb_iter_t *it = NULL;
    OK(flowdb_engine_scan_prefix(e, (const uint8_t *)"k", 1, &it, NULL));
    bool has = true;
    flowdb_status_t rc = FLOWDB_OK;
    int n = 0;
    while (rc == FLOWDB_OK && has) {
        rc = flowdb_iter_next(it, &has, NULL);
        if (rc == FLOWDB_OK && has) n++;
    }
    CHECK(rc == FLOWDB_CORRUPTION && n > 0 && n < 2000);
    flowdb_record_view_t v;
    CHECK(flowdb_iter_record(it, &v, NULL) == FLOWDB_INVALID_ARGUMENT);
    flowdb_iter_free(it);
    flowdb_engine_free(e);
}

int main(void) {
    char base[] = "/tmp/flowdb-c-test-XXXXXX";
    if (!mkdtemp(base)) return 2;
    char d1[512], d2[512], d3[512], d4[512], d5[512], d6[512], d7[512], d8[512], d9[512], d10[512], d11[512];
    snprintf(d1, sizeof d1, "%s/errors", base);
    snprintf(d4, sizeof d4, "%s/zero", base);
    snprintf(d5, sizeof d5, "%s/batch", base);
    snprintf(d2, sizeof d2, "%s/rw", base);
    snprintf(d3, sizeof d3, "%s/threads", base);
    snprintf(d6, sizeof d6, "%s/tuning", base);
    snprintf(d7, sizeof d7, "%s/delete-by-time", base);
    snprintf(d8, sizeof d8, "%s/retention", base);
    snprintf(d9, sizeof d9, "%s/no-retention", base);
    snprintf(d10, sizeof d10, "%s/newest-first", base);
    snprintf(d11, sizeof d11, "%s/last-n-visit", base);
    test_errors_and_options(d1);
    test_reads_and_writes(d2);
    test_threads(d3);
    test_zero_initialised_record(d4);
    test_batch_and_snapshot(d5);
    test_tuning(d6);
    snprintf(d6, sizeof d6, "%s/compression", base);
    test_block_compression(d6);
    test_delete_by_time(d7);
    test_retention(d8, d9);
    test_newest_first_seek_series(d10);
    test_last_n_visit(d11);
    snprintf(d11, sizeof d11, "%s/visit-nested", base);
    test_visit_calls_back_during_shutdown(d11);
    snprintf(d1, sizeof d1, "%s/labels-a", base);
    snprintf(d2, sizeof d2, "%s/labels-b", base);
    test_metrics_labels(d1, d2);
    snprintf(d1, sizeof d1, "%s/iter-error", base);
    test_iter_error_clears_the_record(d1);
    snprintf(d1, sizeof d1, "%s/memtables-in-cache", base);
    test_memtables_in_block_cache(d1);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
