/* flowdb-compare: flowdb against RocksDB (time series) and SQLite (time series and
 * documents), all through their C APIs, in one run. Each round runs every system in
 * turn, each in a child process of its own (so peak RSS is its own); the table shows
 * each workload's median over the rounds and the ratio flowdb / other.
 *
 * flowdb-compare [--series N] [--points N] [--docs N] [--rounds N] [--dir D]
 *                [--cache-mb N] [--only ts|docs] [--systems flowdb,rocksdb,sqlite] [--check]
 *
 * --check (the CI smoke pass): exit 1 unless every read returned the same records on
 * every system. Operation counts scale with series x points (documents) / full size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "workloads.h"

#define MAX_ROUNDS 15

typedef struct {
    const char *title;
    const char *const *systems;
    size_t nsystems;
    const workload_info *info;
    size_t nworkloads;
    int rss_slot;
    /* Runs part `part` of system i's workloads in this (child) process. */
    void (*run)(size_t system, int part, const params *p, results *r);
} section;

static const ts_backend *const TS[] = {&flowdb_ts, &rocksdb_ts, &sqlite_ts};
static const doc_backend *const DOCS[] = {&flowdb_docs, &sqlite_docs};
static const char *const TS_NAMES[] = {"flowdb", "rocksdb", "sqlite"};
static const char *const DOC_NAMES[] = {"flowdb", "sqlite"};
/* --systems: the systems to run (all by default), e.g. only flowdb for a profile. */
static const char *systems_arg = NULL;

static int enabled(const char *name) {
    if (!systems_arg) return 1;
    size_t n = strlen(name);
    for (const char *p = strstr(systems_arg, name); p; p = strstr(p + 1, name))
        if ((p == systems_arg || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    return 0;
}

static void run_ts_system(size_t i, int part, const params *p, results *r) { run_ts(TS[i], part, p, r); }
static void run_doc_system(size_t i, int part, const params *p, results *r) { run_docs(DOCS[i], part, p, r); }

/* Runs one part of one system's workloads in a child, and adds its results to r
 * (the parts fill different workloads). Part 0's peak RSS goes in r->value[rss_slot]. */
static void in_child(const section *sec, size_t sys, int part, const params *p, results *total) {
    results res, *r = &res;
    int fd[2];
    if (pipe(fd) != 0) die("driver", "pipe", NULL);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        memset(r, 0, sizeof *r);
        sec->run(sys, part, p, r);
        ssize_t w = write(fd[1], r, sizeof *r);
        _exit(w == (ssize_t)sizeof *r ? 0 : 3);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof *r) {
        ssize_t n = read(fd[0], (char *)r + got, sizeof *r - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd[0]);
    int status = 0;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    if (got != sizeof *r || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die(sec->systems[sys], "benchmark child", "failed (see above)");
    if (part == 0) r->value[sec->rss_slot] = (double)ru.ru_maxrss / 1024.0;
    for (size_t w = 0; w < MAX_WORKLOADS; w++) {
        total->value[w] += r->value[w];
        total->tally[w].count += r->tally[w].count;
        total->tally[w].sum += r->tally[w].sum;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_value(double v) {
    if (v == 0) printf(" - |");
    else if (v >= 1e6) printf(" %.2fM |", v / 1e6);
    else if (v >= 1e4) printf(" %.0fK |", v / 1e3);
    else if (v >= 100) printf(" %.0f |", v);
    else printf(" %.2f |", v);
}

/* Runs the section's rounds and prints its table; returns the number of tally
 * mismatches between systems. */
static int run_section(const section *sec, const params *base, size_t rounds) {
    static results res[MAX_ROUNDS][3];
    memset(res, 0, sizeof res);
    int mismatches = 0;
    for (size_t round = 0; round < rounds; round++) {
        for (size_t sys = 0; sys < sec->nsystems; sys++) {
            if (!enabled(sec->systems[sys])) continue;
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/%s-%s", base->dir, sec->systems[sys], sec->title);
            params p = *base;
            p.dir = dir;
            double t = now_secs();
            for (int part = 0; part < PARTS; part++) in_child(sec, sys, part, &p, &res[round][sys]);
            fprintf(stderr, "[%s] round %zu: %s took %.1f s\n", sec->title, round + 1, sec->systems[sys],
                    now_secs() - t);
            fresh_dir(dir);
            rmdir(dir);
        }
        for (size_t w = 0; w < sec->nworkloads; w++) {
            if (!sec->info[w].checked) continue;
            for (size_t sys = 1; sys < sec->nsystems; sys++) {
                if (!enabled(sec->systems[0]) || !enabled(sec->systems[sys])) continue;
                tally a = res[round][0].tally[w], b = res[round][sys].tally[w];
                if (a.count != b.count || a.sum != b.sum) {
                    fprintf(stderr, "MISMATCH %s / %s: %s: %llu records (sum %llu) vs %llu (sum %llu)\n",
                            sec->title, sec->info[w].name, sec->systems[sys], (unsigned long long)a.count,
                            (unsigned long long)a.sum, (unsigned long long)b.count, (unsigned long long)b.sum);
                    mismatches++;
                }
            }
        }
    }
    printf("\n### %s (median of %zu rounds)\n\n| workload | unit |", sec->title, rounds);
    for (size_t sys = 0; sys < sec->nsystems; sys++) printf(" %s |", sec->systems[sys]);
    for (size_t sys = 1; sys < sec->nsystems; sys++) printf(" flowdb / %s |", sec->systems[sys]);
    printf(" target vs %s |\n|---|---|", sec->systems[1]);
    for (size_t i = 0; i < 2 * sec->nsystems; i++) printf("---:|");
    printf("\n");
    for (size_t w = 0; w < sec->nworkloads; w++) {
        const workload_info *wi = &sec->info[w];
        double med[3] = {0, 0, 0}, v[MAX_ROUNDS];
        printf("| %s | %s |", wi->name, wi->unit);
        for (size_t sys = 0; sys < sec->nsystems; sys++) {
            for (size_t round = 0; round < rounds; round++) v[round] = res[round][sys].value[w];
            med[sys] = median(v, rounds);
            print_value(med[sys]);
        }
        for (size_t sys = 1; sys < sec->nsystems; sys++) {
            if (med[0] > 0 && med[sys] > 0) printf(" %.2f |", med[0] / med[sys]);
            else printf(" - |");
        }
        double ratio = med[0] / med[1];
        if (wi->target == 0 || med[0] == 0 || med[1] == 0) printf(" |\n");
        else if (wi->lower_is_better) printf(" ≤ %.2f %s |\n", wi->target, ratio <= wi->target ? "met" : "**short**");
        else printf(" ≥ %.2f %s |\n", wi->target, ratio >= wi->target ? "met" : "**short**");
    }
    fflush(stdout);
    return mismatches;
}

static size_t arg_size(const char *flag, const char *v) {
    char *end = NULL;
    unsigned long long n = v ? strtoull(v, &end, 10) : 0;
    if (!v || *end || n == 0) die("arguments", flag, "needs a positive number");
    return (size_t)n;
}

int main(int argc, char **argv) {
    params p = {1000, 1000, 100000, 1.0, 128, "bench-data"};
    size_t rounds = 3;
    const char *only = NULL;
    int check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--check")) { check = 1; continue; }
        if (!strcmp(a, "--series")) p.series = arg_size(a, v);
        else if (!strcmp(a, "--points")) p.points = arg_size(a, v);
        else if (!strcmp(a, "--docs")) p.docs = arg_size(a, v);
        else if (!strcmp(a, "--rounds")) rounds = arg_size(a, v);
        else if (!strcmp(a, "--cache-mb")) p.cache_mb = arg_size(a, v);
        else if (!strcmp(a, "--dir") && v) p.dir = v;
        else if (!strcmp(a, "--systems") && v) systems_arg = v;
        else if (!strcmp(a, "--only") && v && (!strcmp(v, "ts") || !strcmp(v, "docs"))) only = v;
        else die("arguments", a, "unknown, or missing its value (see the comment at the top of compare.c)");
        i++;
    }
    if (rounds > MAX_ROUNDS) die("arguments", "--rounds", "at most 15");
    if (p.series < 4 || p.points < 10) die("arguments", "--series/--points", "at least 4 series and 10 points");
    fresh_dir(p.dir);
    printf("flowdb-compare: %zu series x %zu points, %zu documents, %zu rounds; flowdb %s, RocksDB %s, SQLite %s\n",
           p.series, p.points, p.docs, rounds, flowdb_ts.version(), rocksdb_ts.version(), sqlite_ts.version());
    int mismatches = 0;
    params ts = p, docs = p;
    ts.scale = (double)(p.series * p.points) / 1e6;
    docs.scale = (double)p.docs / 1e5;
    if (ts.scale > 1) ts.scale = 1;
    if (docs.scale > 1) docs.scale = 1;
    section ts_sec = {"time series", TS_NAMES, 3, ts_workloads, TS_WORKLOADS, W_RSS, run_ts_system};
    section doc_sec = {"documents", DOC_NAMES, 2, doc_workloads, DOC_WORKLOADS, D_RSS, run_doc_system};
    if (!only || !strcmp(only, "ts")) mismatches += run_section(&ts_sec, &ts, rounds);
    if (!only || !strcmp(only, "docs")) mismatches += run_section(&doc_sec, &docs, rounds);
    rmdir(p.dir);
    if (mismatches) fprintf(stderr, "flowdb-compare: %d results differed between systems\n", mismatches);
    else if (check) fprintf(stderr, "flowdb-compare: every system returned the same results\n");
    return mismatches ? 1 : 0;
}
