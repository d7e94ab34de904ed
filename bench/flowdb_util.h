/* flowdb set-up and checks shared by the two flowdb backends of flowdb-compare. */
#ifndef FLOWDB_BENCH_FLOWDB_UTIL_H
#define FLOWDB_BENCH_FLOWDB_UTIL_H

#include <stddef.h>

#include "flowdb.h"

/* Ends the program when `st` is an error, naming `what`. */
void fl_check(flowdb_status_t st, flowdb_error_t *err, const char *what);
/* Options as this benchmark runs flowdb: `dir`, IntervalMs(1000) (Always when
 * `synced`), a block cache of `cache_mb`; everything else default. */
flowdb_options_t *fl_options(const char *dir, int synced, size_t cache_mb);

#endif
