/* Time-series backend: SQLite through sqlite3.h, set up as its users run it for this
 * data: WAL mode, synchronous=NORMAL (FULL in synced mode), a page cache of the same
 * size as flowdb's block cache, and a WITHOUT ROWID table keyed (key, ts). One
 * connection; writers from several threads take turns on a mutex, as SQLite allows
 * one writer at a time. Statements are prepared once. */
#include "bench.h"

#include <pthread.h>
#include <stdlib.h>

#include "sqlite_util.h"

struct ts_store {
    sqlite3 *db;
    pthread_mutex_t lock;
    sqlite3_stmt *begin, *commit, *insert, *get, *latest, *last_n, *window, *all_window, *full;
};

static ts_store *q_open(const char *dir, int synced, size_t cache_mb) {
    ts_store *s = calloc(1, sizeof *s);
    s->db = sq_open(dir, "records.db", synced, cache_mb);
    pthread_mutex_init(&s->lock, NULL);
    sq_exec(s->db, "CREATE TABLE IF NOT EXISTS records(key TEXT NOT NULL, ts INTEGER NOT NULL, value BLOB NOT NULL,"
                   " PRIMARY KEY(key, ts)) WITHOUT ROWID");
    s->begin = sq_prep(s->db, "BEGIN");
    s->commit = sq_prep(s->db, "COMMIT");
    s->insert = sq_prep(s->db, "INSERT OR REPLACE INTO records(key, ts, value) VALUES(?, ?, ?)");
    s->get = sq_prep(s->db, "SELECT value FROM records WHERE key = ? AND ts = ?");
    s->latest = sq_prep(s->db, "SELECT ts FROM records WHERE key = ? ORDER BY ts DESC LIMIT 1");
    s->last_n = sq_prep(s->db, "SELECT value FROM records WHERE key = ? ORDER BY ts DESC LIMIT ?");
    s->window = sq_prep(s->db, "SELECT value FROM records WHERE key = ? AND ts BETWEEN ? AND ? ORDER BY ts");
    s->all_window = sq_prep(s->db, "SELECT value FROM records WHERE ts BETWEEN ? AND ?");
    s->full = sq_prep(s->db, "SELECT value FROM records ORDER BY key, ts");
    return s;
}

static void q_close(ts_store *s) {
    sqlite3_stmt *all[] = {s->begin, s->commit, s->insert, s->get, s->latest,
                           s->last_n, s->window, s->all_window, s->full};
    sq_close(s->db, all, sizeof all / sizeof *all);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void q_write(ts_store *s, const ts_rec *recs, size_t n) {
    pthread_mutex_lock(&s->lock);
    sq_run(s->db, s->begin, "begin");
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(s->insert, 1, recs[i].key, (int)recs[i].key_len, SQLITE_STATIC);
        sqlite3_bind_int64(s->insert, 2, recs[i].ts);
        sqlite3_bind_blob(s->insert, 3, recs[i].value, (int)recs[i].value_len, SQLITE_STATIC);
        sq_run(s->db, s->insert, "insert");
    }
    sq_run(s->db, s->commit, "commit");
    pthread_mutex_unlock(&s->lock);
}

/* SQLite has no memtable: a checkpoint moves the WAL into the database file. */
static void q_settle(ts_store *s) { sq_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)"); }

/* Runs a bound statement and tallies its rows' first column (a value, or a ts). */
static void rows(ts_store *s, sqlite3_stmt *st, tally *t, int ts_column) {
    while (sq_step(s->db, st, "select")) {
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

static void q_last_n(ts_store *s, const char *key, size_t klen, size_t n, tally *t) {
    sqlite3_bind_text(s->last_n, 1, key, (int)klen, SQLITE_STATIC);
    sqlite3_bind_int64(s->last_n, 2, (sqlite3_int64)n);
    rows(s, s->last_n, t, 0);
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
                              q_latest, q_last_n, q_window, q_all_window, q_full_scan};
