/* SQLite set-up and calls shared by the two SQLite backends of flowdb-compare. */
#ifndef FLOWDB_BENCH_SQLITE_UTIL_H
#define FLOWDB_BENCH_SQLITE_UTIL_H

#include <sqlite3.h>
#include <stddef.h>

/* Opens `dir/file` as this benchmark runs SQLite: WAL journal, synchronous=NORMAL
 * (FULL when `synced`), a page cache of `cache_mb`. */
sqlite3 *sq_open(const char *dir, const char *file, int synced, size_t cache_mb);
/* Ends the program when `rc` is an error, naming `what`. */
void sq_check(sqlite3 *db, int rc, const char *what);
void sq_exec(sqlite3 *db, const char *sql);
sqlite3_stmt *sq_prep(sqlite3 *db, const char *sql);
/* One step: 1 when it produced a row. */
int sq_step(sqlite3 *db, sqlite3_stmt *st, const char *what);
/* A statement that returns no rows: step, then reset. */
void sq_run(sqlite3 *db, sqlite3_stmt *st, const char *what);
/* Finalizes the statements and closes the connection. */
void sq_close(sqlite3 *db, sqlite3_stmt *const *stmts, size_t n);

#endif
