/* What the JsonDB C tests share: CHECK counts a condition and reports it when it
 * fails, OK a call that must return FLOWDB_OK, J(s) passes a string as (pointer,
 * length), eq_free compares a string the library returned and frees it; open_db and
 * finish begin and end a test in a temporary directory. */
#ifndef FLOWDB_TESTS_CHECK_H
#define FLOWDB_TESTS_CHECK_H

#include "flowdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0, checks = 0;
#define CHECK(c)                                                                              \
    do {                                                                                      \
        checks++;                                                                             \
        if (!(c)) { failures++; fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } \
    } while (0)
#define OK(call) CHECK((call) == FLOWDB_OK)
#define J(s) s, strlen(s)

/* Frees a returned string after comparing it. */
static inline int eq_free(char *got, const char *want) {
    int same = got != NULL && strcmp(got, want) == 0;
    if (!same) fprintf(stderr, "  got %s\n  want %s\n", got ? got : "(null)", want);
    flowdb_string_free(got);
    return same;
}

/* Opens a database in <base>/db, `base` a mkdtemp template made a new directory; its
 * options in *opts (to free), without background work. NULL when base cannot be made. */
static inline flowdb_jsondb_t *open_db(char *base, flowdb_options_t **opts) {
    if (!mkdtemp(base)) return NULL;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/db", base);
    *opts = flowdb_options_new();
    OK(flowdb_options_set_data_dir(*opts, dir, NULL));
    OK(flowdb_options_set_auto_background(*opts, false, NULL));
    flowdb_jsondb_t *db = NULL;
    OK(flowdb_jsondb_open(*opts, &db, NULL));
    return db;
}

/* Removes the test's directory and prints the counts; main's exit status. */
static inline int finish(const char *base) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}

#endif
