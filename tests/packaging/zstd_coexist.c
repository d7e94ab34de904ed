/* A program with its own zstd (the system's libzstd) that also links flowdb, which
 * has a zstd of its own inside. Each must get its own: the program's ZSTD_* calls
 * reach the system library (its version, its API), and flowdb's tables, compressed
 * by flowdb's zstd, read back. Built against libflowdb.a and libflowdb.so (ctest
 * zstd_coexistence_*); with a libflowdb.a that exported its zstd, the program's
 * ZSTD_versionNumber() would be flowdb's, or the link would fail on duplicates. */
#define _XOPEN_SOURCE 700
#include <flowdb.h>
#include <zstd.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

static void check_ok(flowdb_status_t st, flowdb_error_t *err, const char *what) {
    CHECK(st == FLOWDB_OK, "%s: %s", what, flowdb_error_message(err));
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static flowdb_engine_t *open_engine(const char *dir) {
    flowdb_error_t *err = NULL;
    flowdb_options_t *o = flowdb_options_new();
    check_ok(flowdb_options_set_data_dir(o, dir, &err), err, "set_data_dir");
    flowdb_engine_t *db = NULL;
    check_ok(flowdb_engine_open(o, &db, &err), err, "open");
    flowdb_options_free(o);
    return db;
}

int main(void) {
    /* The program's zstd is the system's: the version it was compiled against. */
    CHECK(ZSTD_versionNumber() == ZSTD_VERSION_NUMBER,
          "ZSTD_versionNumber() is %u, the system's zstd.h says %u: another zstd answered",
          ZSTD_versionNumber(), (unsigned)ZSTD_VERSION_NUMBER);
    char text[4096];
    for (size_t i = 0; i < sizeof text; i++) text[i] = (char)('a' + i % 7);
    char packed[ZSTD_COMPRESSBOUND(sizeof text)], unpacked[sizeof text];
    size_t n = ZSTD_compress(packed, sizeof packed, text, sizeof text, 3);
    CHECK(!ZSTD_isError(n), "ZSTD_compress: %s", ZSTD_getErrorName(n));
    size_t m = ZSTD_decompress(unpacked, sizeof unpacked, packed, n);
    CHECK(m == sizeof text && memcmp(text, unpacked, m) == 0, "zstd round trip");

    /* flowdb, in a temporary directory: its tables are compressed by its own zstd. */
    char dir[] = "/tmp/flowdb-zstd-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    flowdb_error_t *err = NULL;
    flowdb_engine_t *db = open_engine(dir);
    flowdb_record_view_t recs[100];
    for (int i = 0; i < 100; i++)
        recs[i] = (flowdb_record_view_t){(const uint8_t *)"cpu", 3, i, FLOWDB_NEVER_EXPIRES,
                                         (const uint8_t *)text, 1000};
    check_ok(flowdb_engine_write_batch(db, recs, 100, &err), err, "write_batch");
    check_ok(flowdb_engine_flush(db, &err), err, "flush");
    check_ok(flowdb_engine_shutdown(db, &err), err, "shutdown");
    flowdb_engine_free(db);

    db = open_engine(dir); /* read back from the table file */
    flowdb_records_t *list = NULL;
    check_ok(flowdb_engine_get(db, (const uint8_t *)"cpu", 3, 42, &list, &err), err, "get");
    CHECK(flowdb_records_len(list) == 1, "get: %zu records", (size_t)flowdb_records_len(list));
    flowdb_record_view_t r;
    check_ok(flowdb_records_at(list, 0, &r, &err), err, "records_at");
    CHECK(r.ts == 42 && r.value_len == 1000 && memcmp(r.value, text, 1000) == 0, "value read back");
    flowdb_records_free(list);
    check_ok(flowdb_engine_shutdown(db, &err), err, "shutdown");
    flowdb_engine_free(db);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

    printf("zstd coexistence ok: the program's zstd %s, flowdb %s with its own\n",
           ZSTD_versionString(), flowdb_version());
    return 0;
}
