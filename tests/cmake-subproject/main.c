/* Writes and reads one record through flowdb built by add_subdirectory. */
#include <flowdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    flowdb_options_t *o = flowdb_options_new();
    flowdb_options_set_data_dir(o, argv[1], NULL);
    flowdb_engine_t *db = NULL;
    if (flowdb_engine_open(o, &db, NULL) != FLOWDB_OK) return 1;
    flowdb_options_free(o);
    flowdb_record_view_t r = {(const uint8_t *)"k", 1, 7, FLOWDB_NEVER_EXPIRES, (const uint8_t *)"v", 1};
    if (flowdb_engine_write_batch(db, &r, 1, NULL) != FLOWDB_OK) return 1;
    flowdb_records_t *l = NULL;
    if (flowdb_engine_get(db, (const uint8_t *)"k", 1, 7, &l, NULL) != FLOWDB_OK || flowdb_records_len(l) != 1) return 1;
    flowdb_records_free(l);
    flowdb_engine_shutdown(db, NULL);
    flowdb_engine_free(db);
    printf("subproject consumer ok: flowdb %s\n", flowdb_version());
    return strcmp(flowdb_version(), FLOWDB_VERSION) == 0 ? 0 : 1;
}
