/* Small helpers shared by the backends and the driver. */
#define _XOPEN_SOURCE 700
#define _GNU_SOURCE /* memmem */
#include "util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void die(const char *system, const char *what, const char *detail) {
    extern char *program_invocation_short_name; /* glibc: the running tool's name */
    fprintf(stderr, "%s: %s: %s: %s\n", program_invocation_short_name, system, what, detail ? detail : "(no detail)");
    exit(2);
}

/* Within `len` bytes only: a document may be lent without a NUL after it
 * (flowdb_cursor_value_view). An "id" is followed by more of the document (at least
 * its closing brace), so strtoull stops inside it. */
void tally_docs(tally *t, const char *json, size_t len) {
    static const char ID[] = "\"id\":";
    const char *p = json, *end = json + len;
    while ((p = memmem(p, (size_t)(end - p), ID, sizeof ID - 1)) != NULL) {
        p += sizeof ID - 1;
        t->count++;
        t->sum += strtoull(p, NULL, 10);
    }
}

double now_secs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t du_total;
static int du_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)path, (void)ftw;
    if (flag == FTW_F) du_total += (uint64_t)st->st_size;
    return 0;
}

uint64_t dir_bytes(const char *dir) {
    du_total = 0;
    nftw(dir, du_one, 16, FTW_PHYS);
    return du_total;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void fresh_dir(const char *dir) {
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (mkdir(dir, 0755) != 0) die("driver", "mkdir", dir);
}

static void marker_path(char *out, size_t cap, const char *dir) { snprintf(out, cap, "%s.loaded", dir); }

int needs_load(const char *dir, const char *load, int reuse) {
    char marker[4096], line[256] = "";
    marker_path(marker, sizeof marker, dir);
    FILE *m = fopen(marker, "r");
    if (m) {
        if (!fgets(line, sizeof line, m)) line[0] = 0;
        fclose(m);
    }
    line[strcspn(line, "\n")] = 0;
    if (reuse && !strcmp(line, load)) return 0;
    remove(marker);
    fresh_dir(dir);
    return 1;
}

void mark_loaded(const char *dir, const char *load) {
    char marker[4096];
    marker_path(marker, sizeof marker, dir);
    FILE *m = fopen(marker, "w");
    if (!m) die("marker", marker, "could not be written");
    fprintf(m, "%s\n", load);
    fclose(m);
}

uint64_t lcg_below(uint64_t *state, uint64_t n) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (*state >> 33) % n;
}
