/* Time-series backend: SQLite through sqlite3.h, set up as its users run it for this
 * data: WAL mode, synchronous=NORMAL (FULL in synced mode), a page cache of the same
 * size as flowdb's block cache, and a WITHOUT ROWID table keyed (key, ts). One
 * connection; writers from several threads take turns on a mutex, as SQLite allows
 * one writer at a time. Statements are prepared once. */
#include "bench.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

struct ts_store {
    sqlite3 *db;
    pthread_mutex_t lock;
    sqlite3_stmt *begin, *commit, *insert, *get, *latest, *window, *all_window, *full;
};

static void check(ts_store *s, int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) die("sqlite", what, sqlite3_errmsg(s->db));
}

static sqlite3_stmt *prep(ts_store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    check(s, sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), sql);
    return st;
}

static void exec(ts_store *s, const char *sql) { check(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL), sql); }

static ts_store *q_open(const char *dir, int synced, size_t cache_mb) {
    ts_store *s = calloc(1, sizeof *s);
    char path[4096], pragma[128];
    snprintf(path, sizeof path, "%s/records.db", dir);
    if (sqlite3_open(path, &s->db) != SQLITE_OK) die("sqlite", "open", sqlite3_errmsg(s->db));
    pthread_mutex_init(&s->lock, NULL);
    exec(s, "PRAGMA journal_mode=WAL");
    exec(s, synced ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size=-%zu", cache_mb * 1024);
    exec(s, pragma);
    exec(s, "CREATE TABLE IF NOT EXISTS records(key TEXT NOT NULL, ts INTEGER NOT NULL, value BLOB NOT NULL,"
            " PRIMARY KEY(key, ts)) WITHOUT ROWID");
    s->begin = prep(s, "BEGIN");
    s->commit = prep(s, "COMMIT");
    s->insert = prep(s, "INSERT OR REPLACE INTO records(key, ts, value) VALUES(?, ?, ?)");
    s->get = prep(s, "SELECT value FROM records WHERE key = ? AND ts = ?");
    s->latest = prep(s, "SELECT ts FROM records WHERE key = ? ORDER BY ts DESC LIMIT 1");
    s->window = prep(s, "SELECT value FROM records WHERE key = ? AND ts BETWEEN ? AND ? ORDER BY ts");
    s->all_window = prep(s, "SELECT value FROM records WHERE ts BETWEEN ? AND ?");
    s->full = prep(s, "SELECT value FROM records ORDER BY key, ts");
    return s;
}

static void q_close(ts_store *s) {
    sqlite3_stmt *all[] = {s->begin, s->commit, s->insert, s->get, s->latest, s->window, s->all_window, s->full};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) sqlite3_finalize(all[i]);
    check(s, sqlite3_close(s->db), "close");
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int step(ts_store *s, sqlite3_stmt *st, const char *what) {
    int rc = sqlite3_step(st);
    check(s, rc, what);
    return rc == SQLITE_ROW;
}

static void q_write(ts_store *s, const ts_rec *recs, size_t n) {
    pthread_mutex_lock(&s->lock);
    step(s, s->begin, "begin");
    sqlite3_reset(s->begin);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(s->insert, 1, recs[i].key, (int)recs[i].key_len, SQLITE_STATIC);
        sqlite3_bind_int64(s->insert, 2, recs[i].ts);
        sqlite3_bind_blob(s->insert, 3, recs[i].value, (int)recs[i].value_len, SQLITE_STATIC);
        step(s, s->insert, "insert");
        sqlite3_reset(s->insert);
    }
    step(s, s->commit, "commit");
    sqlite3_reset(s->commit);
    pthread_mutex_unlock(&s->lock);
}

/* SQLite has no memtable: a checkpoint moves the WAL into the database file. */
static void q_settle(ts_store *s) { exec(s, "PRAGMA wal_checkpoint(TRUNCATE)"); }

/* Runs a bound statement and tallies its rows' first column (a value, or a ts). */
static void rows(ts_store *s, sqlite3_stmt *st, tally *t, int ts_column) {
    while (step(s, st, "select")) {
        if (ts_column) {
            t->count++;
            t->sum += (uint64_t)sqlite3_column_int64(st, 0);
        } else {
            const void *v = sqlite3_column_blob(st, 0);
            tally_value(t, v, (size_t)sqlite3_column_bytes(st, 0));
        }
    }
    sqlite3_reset(st);
}

static void q_get(ts_store *s, const char *key, size_t klen, int64_t ts, tally *t) {
    sqlite3_bind_text(s->get, 1, key, (int)klen, SQLITE_STATIC);
    sqlite3_bind_int64(s->get, 2, ts);
    rows(s, s->get, t, 0);
}

static void q_latest(ts_store *s, const char *key, size_t klen, tally *t) {
    sqlite3_bind_text(s->latest, 1, key, (int)klen, SQLITE_STATIC);
    rows(s, s->latest, t, 1);
}

static void q_window(ts_store *s, const char *key, size_t klen, int64_t lo, int64_t hi, tally *t) {
    sqlite3_bind_text(s->window, 1, key, (int)klen, SQLITE_STATIC);
    sqlite3_bind_int64(s->window, 2, lo);
    sqlite3_bind_int64(s->window, 3, hi);
    rows(s, s->window, t, 0);
}

/* Keyed (key, ts) as the benchmark fixes it, a window across all series reads every row. */
static void q_all_window(ts_store *s, int64_t lo, int64_t hi, tally *t) {
    sqlite3_bind_int64(s->all_window, 1, lo);
    sqlite3_bind_int64(s->all_window, 2, hi);
    rows(s, s->all_window, t, 0);
}

static void q_full_scan(ts_store *s, tally *t) { rows(s, s->full, t, 0); }

const ts_backend sqlite_ts = {"sqlite", sqlite3_libversion, q_open, q_close, q_write, q_settle, q_get,
                              q_latest, q_window, q_all_window, q_full_scan};
