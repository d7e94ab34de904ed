/* flowdb C quickstart: write a few series, read the latest point, query a 10-second
 * window across all series, scan one series lazily, print stats.
 * Usage: flowdb_quickstart_c [DATA_DIR]   (default ./data) */
#include "flowdb.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int check(flowdb_status_t s, flowdb_error_t *err, const char *what) {
    if (s == FLOWDB_OK) return 0;
    fprintf(stderr, "%s failed: %s: %s\n", what, flowdb_status_str(s), flowdb_error_message(err));
    flowdb_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "./data";
    flowdb_error_t *err = NULL;
    flowdb_options_t *opts = flowdb_options_new();
    flowdb_options_set_data_dir(opts, dir, NULL);
    flowdb_engine_t *db = NULL;
    if (check(flowdb_engine_open(opts, &db, &err), err, "open")) return 1;
    flowdb_options_free(opts);

    /* Three series, 60 points one second apart (ts in microseconds). */
    int64_t start = (int64_t)time(NULL) * 1000000 - 60000000;
    flowdb_record_view_t batch[180];
    char keys[3][32], values[180][8];
    for (int h = 0; h < 3; h++) {
        snprintf(keys[h], sizeof keys[h], "cpu.host-%d.usage", h + 1);
        for (int i = 0; i < 60; i++) {
            int n = h * 60 + i;
            snprintf(values[n], sizeof values[n], "%d.5", 40 + i % 7);
            batch[n] = (flowdb_record_view_t){(const uint8_t *)keys[h], strlen(keys[h]), start + i * 1000000LL,
                                              FLOWDB_NEVER_EXPIRES, (const uint8_t *)values[n], strlen(values[n])};
        }
    }
    if (check(flowdb_engine_write_batch(db, batch, 180, &err), err, "write")) return 1;

    flowdb_records_t *latest = NULL;
    if (check(flowdb_engine_get_latest(db, (const uint8_t *)keys[1], strlen(keys[1]), &latest, &err), err, "get_latest")) return 1;
    flowdb_record_view_t v;
    if (flowdb_records_len(latest) == 1 && flowdb_records_at(latest, 0, &v, NULL) == FLOWDB_OK)
        printf("latest %.*s at %lld: %.*s\n", (int)v.key_len, (const char *)v.key, (long long)v.ts, (int)v.value_len, (const char *)v.value);
    flowdb_records_free(latest);

    flowdb_records_t *window = NULL;
    if (check(flowdb_engine_query_time_range(db, start + 10000000, start + 19000000, &window, &err), err, "query")) return 1;
    printf("10-second window across all series: %zu records\n", flowdb_records_len(window));
    flowdb_records_free(window);

    flowdb_iter_t *it = NULL;
    if (check(flowdb_engine_scan_prefix(db, (const uint8_t *)"cpu.host-1.", 11, &it, &err), err, "scan")) return 1;
    size_t n = 0;
    bool has = false;
    while (flowdb_iter_next(it, &has, NULL) == FLOWDB_OK && has) n++;
    flowdb_iter_free(it);
    printf("scanned %zu points of cpu.host-1\n", n);

    flowdb_stats_t s = {.struct_size = sizeof s};
    flowdb_engine_flush(db, NULL);
    flowdb_engine_stats(db, &s, NULL);
    printf("stats: %llu records written, %llu tables\n", (unsigned long long)s.total_records_written, (unsigned long long)s.sstable_count);
    if (check(flowdb_engine_shutdown(db, &err), err, "shutdown")) return 1;
    flowdb_engine_free(db);
    printf("flowdb %s, data directory: %s\n", flowdb_version(), dir);
    return 0;
}
