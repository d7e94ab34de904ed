/* SQLite set-up and calls shared by the two SQLite backends of flowdb-compare. */
#include "sqlite_util.h"

#include <stdio.h>

#include "bench.h"

void sq_check(sqlite3 *db, int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) die("sqlite", what, sqlite3_errmsg(db));
}

void sq_exec(sqlite3 *db, const char *sql) { sq_check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql); }

sqlite3 *sq_open(const char *dir, const char *file, int synced, size_t cache_mb) {
    char path[4096], pragma[64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) die("sqlite", "open", sqlite3_errmsg(db));
    sq_exec(db, "PRAGMA journal_mode=WAL");
    sq_exec(db, synced ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size=-%zu", cache_mb * 1024);
    sq_exec(db, pragma);
    return db;
}

sqlite3_stmt *sq_prep(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    sq_check(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), sql);
    return st;
}

int sq_step(sqlite3 *db, sqlite3_stmt *st, const char *what) {
    int rc = sqlite3_step(st);
    sq_check(db, rc, what);
    return rc == SQLITE_ROW;
}

void sq_run(sqlite3 *db, sqlite3_stmt *st, const char *what) {
    sq_step(db, st, what);
    sqlite3_reset(st);
}

void sq_close(sqlite3 *db, sqlite3_stmt *const *stmts, size_t n) {
    for (size_t i = 0; i < n; i++) sqlite3_finalize(stmts[i]);
    sq_check(db, sqlite3_close(db), "close");
}
