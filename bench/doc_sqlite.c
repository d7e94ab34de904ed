/* Document backend: SQLite's JSON1 through sqlite3.h, as its users index JSON: a table
 * users(id INTEGER PRIMARY KEY, doc TEXT) in WAL mode (synchronous NORMAL, or FULL in
 * synced mode), expression indexes on json_extract for email (unique), age and
 * (city, age), and, since an expression index cannot index each element of an array,
 * a side table user_tags(id, tag) filled from json_each plus an index on (tag, id)
 * for the multi-entry tags index. */
#include "bench.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

struct doc_store {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *put, *untag, *tag, *get, *email, *age, *city;
};

static const char *SCHEMA =
    "CREATE TABLE users(id INTEGER PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE UNIQUE INDEX users_email ON users(json_extract(doc, '$.email'));"
    "CREATE INDEX users_age ON users(json_extract(doc, '$.age'));"
    "CREATE INDEX users_city_age ON users(json_extract(doc, '$.city'), json_extract(doc, '$.age'));"
    "CREATE TABLE user_tags(id INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY(id, tag)) WITHOUT ROWID;"
    "CREATE INDEX user_tags_tag ON user_tags(tag, id);";

static void check(doc_store *s, int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) die("sqlite", what, sqlite3_errmsg(s->db));
}

static sqlite3_stmt *prep(doc_store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    check(s, sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), sql);
    return st;
}

static doc_store *q_open(const char *dir, int synced) {
    doc_store *s = calloc(1, sizeof *s);
    char path[4096];
    snprintf(path, sizeof path, "%s/docs.db", dir);
    if (sqlite3_open(path, &s->db) != SQLITE_OK) die("sqlite", "open", sqlite3_errmsg(s->db));
    check(s, sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), "wal");
    check(s, sqlite3_exec(s->db, synced ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL, NULL),
          "synchronous");
    check(s, sqlite3_exec(s->db, "PRAGMA cache_size=-131072", NULL, NULL, NULL), "cache_size");
    check(s, sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL), "schema");
    s->begin = prep(s, "BEGIN");
    s->commit = prep(s, "COMMIT");
    s->put = prep(s, "INSERT OR REPLACE INTO users(id, doc) VALUES(?1, ?2)");
    s->untag = prep(s, "DELETE FROM user_tags WHERE id = ?1");
    s->tag = prep(s, "INSERT OR IGNORE INTO user_tags(id, tag) SELECT ?1, value FROM json_each(?2, '$.tags')");
    s->get = prep(s, "SELECT doc FROM users WHERE id = ?1");
    s->email = prep(s, "SELECT doc FROM users WHERE json_extract(doc, '$.email') = ?1");
    s->age = prep(s, "SELECT doc FROM users WHERE json_extract(doc, '$.age') BETWEEN ?1 AND ?2"
                     " ORDER BY id LIMIT ?3");
    s->city = prep(s, "SELECT doc FROM users WHERE json_extract(doc, '$.city') = ?1"
                      " ORDER BY json_extract(doc, '$.age'), id LIMIT ?2");
    return s;
}

static void q_close(doc_store *s) {
    sqlite3_stmt *all[] = {s->begin, s->commit, s->put, s->untag, s->tag, s->get, s->email, s->age, s->city};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) sqlite3_finalize(all[i]);
    check(s, sqlite3_close(s->db), "close");
    free(s);
}

static void run(doc_store *s, sqlite3_stmt *st, const char *what) {
    check(s, sqlite3_step(st), what);
    sqlite3_reset(st);
}

static void q_put_batch(doc_store *s, char *const *docs, const size_t *lens, const int64_t *ids, size_t n) {
    run(s, s->begin, "begin");
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(s->put, 1, ids[i]);
        sqlite3_bind_text(s->put, 2, docs[i], (int)lens[i], SQLITE_STATIC);
        run(s, s->put, "insert");
        sqlite3_bind_int64(s->untag, 1, ids[i]);
        run(s, s->untag, "untag");
        sqlite3_bind_int64(s->tag, 1, ids[i]);
        sqlite3_bind_text(s->tag, 2, docs[i], (int)lens[i], SQLITE_STATIC);
        run(s, s->tag, "tag");
    }
    run(s, s->commit, "commit");
}

static void rows(doc_store *s, sqlite3_stmt *st, tally *t) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        tally_docs(t, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    check(s, rc, "select");
    sqlite3_reset(st);
}

static void q_get(doc_store *s, int64_t id, tally *t) {
    sqlite3_bind_int64(s->get, 1, id);
    rows(s, s->get, t);
}

static void q_by_email(doc_store *s, const char *email, tally *t) {
    sqlite3_bind_text(s->email, 1, email, -1, SQLITE_STATIC);
    rows(s, s->email, t);
}

static void q_age_range(doc_store *s, int lo, int hi, size_t limit, tally *t) {
    sqlite3_bind_int(s->age, 1, lo);
    sqlite3_bind_int(s->age, 2, hi);
    sqlite3_bind_int64(s->age, 3, (sqlite3_int64)limit);
    rows(s, s->age, t);
}

static void q_city_by_age(doc_store *s, const char *city, size_t limit, tally *t) {
    sqlite3_bind_text(s->city, 1, city, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->city, 2, (sqlite3_int64)limit);
    rows(s, s->city, t);
}

const doc_backend sqlite_docs = {"sqlite", q_open, q_close, q_put_batch, q_get, q_by_email, q_age_range, q_city_by_age};
