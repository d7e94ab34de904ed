/* flowdb-doc-loop: loads flowdb-compare's documents into one system, then loops one
 * document workload, for profiling it alone and for comparing two builds of
 * libflowdb by switching LD_LIBRARY_PATH between runs (docs/benchmarks.md).
 *
 *   flowdb-doc-loop flowdb|sqlite get|email|age|ids|city|city1|each ITERATIONS [--docs N] [--dir D]
 *                   [--reuse]
 *
 * --reuse: when D holds the documents a run with --reuse loaded (its marker file
 * D.loaded names the system and the count), reopen them instead of loading again,
 * so repeated runs read the same files (fresh loads leave tables laid out
 * differently, from run to run, by the compactions' timing). The run that loads
 * measures right after its load (its output gives the load's rate; later runs give
 * 0). To compare two builds of libflowdb, give each a directory it loaded itself
 * when their table formats differ (an older build reads newer bloom filters as no
 * filter at all).
 *
 * city1 is the city query with LIMIT 1, which with city (LIMIT 20) splits a query's
 * cost into a fixed part and a part per document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "workloads.h"

static void one(const doc_backend *b, doc_store *s, const char *w, int64_t docs, uint64_t *rng, tally *t) {
    char email[64];
    if (!strcmp(w, "get")) {
        b->get(s, (int64_t)lcg_below(rng, (uint64_t)docs), t);
    } else if (!strcmp(w, "email")) {
        snprintf(email, sizeof email, "u%llu@example.com", (unsigned long long)lcg_below(rng, (uint64_t)docs));
        b->by_email(s, email, t);
    } else if (!strcmp(w, "age")) {
        int lo = 18 + (int)lcg_below(rng, 50);
        b->age_range(s, lo, lo + 6, 20, t); /* half-open: ages lo ..= lo + 5 */
    } else if (!strcmp(w, "ids")) {
        int lo = 18 + (int)lcg_below(rng, 55);
        b->age_keys(s, lo, lo + 5, t); /* ages lo ..= lo + 5, as flowdb-compare asks */
    } else if (!strcmp(w, "city") || !strcmp(w, "city1")) {
        b->city_by_age(s, DOC_CITIES[lcg_below(rng, 8)], w[4] ? 1 : 20, t);
    } else if (!strcmp(w, "each")) {
        b->each_doc(s, t); /* every document through a cursor, one at a time */
    } else {
        die("arguments", "workload", "one of get, email, age, ids, city, city1, each");
    }
}

int main(int argc, char **argv) {
    if (argc < 4)
        die("arguments", "usage", "flowdb-doc-loop flowdb|sqlite WORKLOAD ITERATIONS [--docs N] [--dir D] [--reuse]");
    const doc_backend *b = !strcmp(argv[1], "flowdb") ? &flowdb_docs : !strcmp(argv[1], "sqlite") ? &sqlite_docs : NULL;
    if (!b) die("arguments", "system", "flowdb or sqlite");
    const char *w = argv[2], *dir = "doc-loop-data";
    long iters = atol(argv[3]);
    int64_t docs = 100000;
    int reuse = 0;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--reuse")) reuse = 1;
        else if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)) die("arguments", argv[i], "a value after it");
        else if (!strcmp(argv[i], "--docs")) docs = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--dir")) dir = argv[++i];
        else die("arguments", argv[i], "--docs, --dir or --reuse");
    }
    if (iters <= 0 || docs <= 0) die("arguments", "ITERATIONS/--docs", "positive numbers");
    char loaded[64];
    snprintf(loaded, sizeof loaded, "%s %lld", b->name, (long long)docs);
    int fresh = needs_load(dir, loaded, reuse);
    doc_store *s = b->open(dir, 0);
    double load = fresh ? put_docs(b, s, 0, (size_t)docs, 100) : 0;
    if (fresh && reuse) mark_loaded(dir, loaded);
    tally t = {0, 0};
    uint64_t rng = 12345;
    double t0 = now_secs();
    for (long i = 0; i < iters; i++) one(b, s, w, docs, &rng, &t);
    double took = now_secs() - t0;
    printf("%s %s: %.0f ops/s (load %.0f docs/s; tally %llu/%llu)\n", b->name, w, (double)iters / took,
           fresh ? (double)docs / load : 0.0, (unsigned long long)t.count, (unsigned long long)t.sum);
    b->close(s);
    return 0;
}
