/* Helpers shared by the backends and the driver of flowdb-compare. */
#ifndef FLOWDB_BENCH_UTIL_H
#define FLOWDB_BENCH_UTIL_H

#include "bench.h"

double now_secs(void);
/* Total size of the regular files under `dir`. */
uint64_t dir_bytes(const char *dir);
/* Removes `dir` with everything in it, and creates it empty. */
void fresh_dir(const char *dir);
/* The loop programs' --reuse: true (and `dir` emptied, its marker removed) unless
 * `reuse` and the marker file `dir`.loaded holds `load` (a line naming the system and
 * the data, which `mark_loaded` wrote after a load into `dir`). */
int needs_load(const char *dir, const char *load, int reuse);
void mark_loaded(const char *dir, const char *load);
/* flowdb-bench's LCG: a number below n. */
uint64_t lcg_below(uint64_t *state, uint64_t n);

#endif
