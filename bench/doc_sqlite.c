/* Document backend: SQLite's JSON1 through sqlite3.h, as its users index JSON: a table
 * users(id INTEGER PRIMARY KEY, doc TEXT) in WAL mode (synchronous NORMAL, or FULL in
 * synced mode), expression indexes on json_extract for email (unique), age and
 * (city, age), and, since an expression index cannot index each element of an array,
 * a side table user_tags(id, tag) filled from json_each plus an index on (tag, id)
 * for the multi-entry tags index. */
#include "bench.h"

#include <stdlib.h>

#include "sqlite_util.h"

struct doc_store {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *put, *untag, *tag, *get, *email, *age, *city, *age_keys, *each;
};

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users(json_extract(doc, '$.email'));"
    "CREATE INDEX IF NOT EXISTS users_age ON users(json_extract(doc, '$.age'));"
    "CREATE INDEX IF NOT EXISTS users_city_age ON users(json_extract(doc, '$.city'), json_extract(doc, '$.age'));"
    "CREATE TABLE IF NOT EXISTS user_tags(id INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY(id, tag)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS user_tags_tag ON user_tags(tag, id);";

static doc_store *q_open(const char *dir, int synced) {
    doc_store *s = calloc(1, sizeof *s);
    s->db = sq_open(dir, "docs.db", synced, 128);
    sq_exec(s->db, SCHEMA);
    s->begin = sq_prep(s->db, "BEGIN");
    s->commit = sq_prep(s->db, "COMMIT");
    s->put = sq_prep(s->db, "INSERT OR REPLACE INTO users(id, doc) VALUES(?1, ?2)");
    s->untag = sq_prep(s->db, "DELETE FROM user_tags WHERE id = ?1");
    s->tag = sq_prep(s->db, "INSERT OR IGNORE INTO user_tags(id, tag) SELECT ?1, value FROM json_each(?2, '$.tags')");
    s->get = sq_prep(s->db, "SELECT doc FROM users WHERE id = ?1");
    s->email = sq_prep(s->db, "SELECT doc FROM users WHERE json_extract(doc, '$.email') = ?1");
    s->age = sq_prep(s->db, "SELECT doc FROM users WHERE json_extract(doc, '$.age') >= ?1 AND json_extract(doc, '$.age') < ?2"
                     " ORDER BY id LIMIT ?3");
    s->city = sq_prep(s->db, "SELECT doc FROM users WHERE json_extract(doc, '$.city') = ?1"
                      " ORDER BY json_extract(doc, '$.age'), id LIMIT ?2");
    s->age_keys = sq_prep(s->db, "SELECT id FROM users WHERE json_extract(doc, '$.age') BETWEEN ?1 AND ?2");
    s->each = sq_prep(s->db, "SELECT doc FROM users ORDER BY id");
    return s;
}

static void q_close(doc_store *s) {
    sqlite3_stmt *all[] = {s->begin, s->commit, s->put, s->untag, s->tag, s->get,
                           s->email, s->age, s->city, s->age_keys, s->each};
    sq_close(s->db, all, sizeof all / sizeof *all);
    free(s);
}

static void q_put_batch(doc_store *s, char *const *docs, const size_t *lens, const int64_t *ids, size_t n) {
    sq_run(s->db, s->begin, "begin");
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(s->put, 1, ids[i]);
        sqlite3_bind_text(s->put, 2, docs[i], (int)lens[i], SQLITE_STATIC);
        sq_run(s->db, s->put, "insert");
        sqlite3_bind_int64(s->untag, 1, ids[i]);
        sq_run(s->db, s->untag, "untag");
        sqlite3_bind_int64(s->tag, 1, ids[i]);
        sqlite3_bind_text(s->tag, 2, docs[i], (int)lens[i], SQLITE_STATIC);
        sq_run(s->db, s->tag, "tag");
    }
    sq_run(s->db, s->commit, "commit");
}

static void rows(doc_store *s, sqlite3_stmt *st, tally *t) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        tally_docs(t, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sq_check(s->db, rc, "select");
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

static void q_age_keys(doc_store *s, int lo, int hi, tally *t) {
    sqlite3_bind_int(s->age_keys, 1, lo);
    sqlite3_bind_int(s->age_keys, 2, hi);
    int rc;
    while ((rc = sqlite3_step(s->age_keys)) == SQLITE_ROW) tally_id(t, sqlite3_column_int64(s->age_keys, 0));
    sq_check(s->db, rc, "select ids");
    sqlite3_reset(s->age_keys);
}

static void q_each_doc(doc_store *s, tally *t) {
    rows(s, s->each, t);
}

const doc_backend sqlite_docs = {"sqlite",      q_open,        q_close,    q_put_batch, q_get, q_by_email,
                                 q_age_range,   q_city_by_age, q_age_keys, q_each_doc};
