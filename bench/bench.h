/* flowdb-compare: the workloads of flowdb-bench and jsondb-bench, run through each
 * system's C API (flowdb.h, rocksdb/c.h, sqlite3.h). Each system is a backend: a table
 * of functions the workload driver calls the same way for all of them. */
#ifndef FLOWDB_BENCH_H
#define FLOWDB_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* What a read returned, so that results can be compared across systems: how many
 * records or documents, and a checksum of what they hold. */
typedef struct {
    uint64_t count;
    uint64_t sum;
} tally;

/* A value counts its length and first and last bytes (the caller does read them). */
static inline void tally_value(tally *t, const void *v, size_t n) {
    const uint8_t *b = (const uint8_t *)v;
    t->count++;
    t->sum += n * 31 + (n ? b[0] + b[n - 1] : 0);
}

/* A document counts its "id" (each system keeps the document's own JSON text). */
void tally_docs(tally *t, const char *json, size_t len);
/* Tallies one id. */
static inline void tally_id(tally *t, int64_t id) {
    t->count++;
    t->sum += (uint64_t)id;
}

_Noreturn void die(const char *system, const char *what, const char *detail);

/* ---- time series: records (key, ts, value), ts in microseconds ---- */
typedef struct {
    const char *key;
    size_t key_len;
    int64_t ts;
    const uint8_t *value;
    size_t value_len;
} ts_rec;

typedef struct ts_store ts_store;

typedef struct {
    const char *name;
    const char *(*version)(void);
    /* synced: every write durable before it returns (else the system's usual
     * buffered-log mode); cache_mb: block/page cache size. */
    ts_store *(*open)(const char *dir, int synced, size_t cache_mb);
    void (*close)(ts_store *s);
    /* One atomic batch. Called from several threads at once. */
    void (*write)(ts_store *s, const ts_rec *recs, size_t n);
    /* Flush memory to files and compact fully, so reads meet a settled store. */
    void (*settle)(ts_store *s);
    void (*get)(ts_store *s, const char *key, size_t key_len, int64_t ts, tally *t);
    /* The record of `key` with the greatest ts: tallies count 1 and its ts. */
    void (*latest)(ts_store *s, const char *key, size_t key_len, tally *t);
    /* The n records of `key` with the greatest ts, newest first (fewer when the key
     * holds fewer): tallies each value. */
    void (*last_n)(ts_store *s, const char *key, size_t key_len, size_t n, tally *t);
    /* Records of one key with lo <= ts <= hi, in ts order. */
    void (*window)(ts_store *s, const char *key, size_t key_len, int64_t lo, int64_t hi, tally *t);
    /* Records of every key with lo <= ts <= hi. */
    void (*all_window)(ts_store *s, int64_t lo, int64_t hi, tally *t);
    void (*full_scan)(ts_store *s, tally *t);
} ts_backend;

/* ---- documents: {"id", "email", "age", "city", "tags"} ---- */
typedef struct doc_store doc_store;

typedef struct {
    const char *name;
    /* A store "users" keyed by id, with a unique index on email, an index on age, a
     * compound index on (city, age) and a multi-entry index on tags. */
    doc_store *(*open)(const char *dir, int synced);
    void (*close)(doc_store *s);
    /* Puts (insert or replace) n documents in one transaction. */
    void (*put_batch)(doc_store *s, char *const *docs, const size_t *lens, const int64_t *ids, size_t n);
    void (*get)(doc_store *s, int64_t id, tally *t);
    void (*by_email)(doc_store *s, const char *email, tally *t);
    /* lo <= age < hi (half-open, as flowdb's where_range), in id order (a query without
     * order_by), at most `limit`. */
    void (*age_range)(doc_store *s, int lo, int hi, size_t limit, tally *t);
    /* city == city, ordered by (age, id), at most `limit`. */
    void (*city_by_age)(doc_store *s, const char *city, size_t limit, tally *t);
    /* The ids of the documents with lo <= age <= hi, read from the age index alone
     * (flowdb: get_all_keys_by_index; SQLite: SELECT id ... BETWEEN): tallies each id. */
    void (*age_keys)(doc_store *s, int lo, int hi, tally *t);
    /* Every document in id order, one at a time (flowdb: a cursor; SQLite: a
     * stepped SELECT ... ORDER BY id): tallies each. */
    void (*each_doc)(doc_store *s, tally *t);
} doc_backend;

extern const ts_backend flowdb_ts, rocksdb_ts, sqlite_ts;
extern const doc_backend flowdb_docs, sqlite_docs;

#endif
