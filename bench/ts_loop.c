/* flowdb-ts-loop: loads flowdb-compare's time series into one system, then loops one
 * read workload, for profiling it alone and for comparing two builds of libflowdb by
 * switching LD_LIBRARY_PATH between runs (docs/benchmarks.md).
 *
 *   flowdb-ts-loop flowdb|rocksdb|sqlite get|latest|last_n ITERATIONS [--series N]
 *                  [--points N] [--dir D] [--reuse]
 *
 * --reuse: when D holds the series a run with --reuse loaded (its marker file
 * D.loaded names the system and the shape), reopen them instead of loading again, so
 * repeated runs read the same files. The rate printed is of the loop alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "workloads.h"

int main(int argc, char **argv) {
    if (argc < 4)
        die("arguments", "usage",
            "flowdb-ts-loop flowdb|rocksdb|sqlite get|latest|last_n ITERATIONS [--series N] [--points N] [--dir D] "
            "[--reuse]");
    const ts_backend *b = !strcmp(argv[1], "flowdb")    ? &flowdb_ts
                          : !strcmp(argv[1], "rocksdb") ? &rocksdb_ts
                          : !strcmp(argv[1], "sqlite")  ? &sqlite_ts
                                                        : NULL;
    if (!b) die("arguments", "system", "flowdb, rocksdb or sqlite");
    const char *w = argv[2];
    long iters = atol(argv[3]);
    params p = {.series = 1000, .points = 1000, .docs = 0, .scale = 1, .cache_mb = 128, .dir = "ts-loop-data"};
    int reuse = 0;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--reuse")) reuse = 1;
        else if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)) die("arguments", argv[i], "a value after it");
        else if (!strcmp(argv[i], "--series")) p.series = (size_t)atoll(argv[++i]);
        else if (!strcmp(argv[i], "--points")) p.points = (size_t)atoll(argv[++i]);
        else if (!strcmp(argv[i], "--dir")) p.dir = argv[++i];
        else die("arguments", argv[i], "--series, --points, --dir or --reuse");
    }
    if (iters <= 0 || p.series == 0 || p.points == 0) die("arguments", "ITERATIONS/--series/--points", "positive numbers");
    char shape[96];
    snprintf(shape, sizeof shape, "%s %llu %llu", b->name, (unsigned long long)p.series, (unsigned long long)p.points);
    int fresh = needs_load(p.dir, shape, reuse);
    ts_store *s = b->open(p.dir, 0, p.cache_mb);
    double load = fresh ? load_ts(b, s, &p) : 0;
    if (fresh && reuse) mark_loaded(p.dir, shape);
    tally t = {0, 0};
    double rate = loop_ts(b, s, &p, w, (size_t)iters, &t);
    printf("%s %s: %.0f ops/s (load %.0f records/s; tally %llu/%llu)\n", b->name, w, rate, load,
           (unsigned long long)t.count, (unsigned long long)t.sum);
    b->close(s);
    return 0;
}
