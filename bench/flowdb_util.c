/* flowdb set-up and checks shared by the two flowdb backends of flowdb-compare. */
#include "flowdb_util.h"

#include "bench.h"

#include <stdlib.h>
#include <string.h>

void fl_check(flowdb_status_t st, flowdb_error_t *err, const char *what) {
    if (st != FLOWDB_OK) die("flowdb", what, err ? flowdb_error_message(err) : flowdb_status_str(st));
}

flowdb_options_t *fl_options(const char *dir, int synced, size_t cache_mb) {
    flowdb_options_t *o = flowdb_options_new();
    flowdb_error_t *err = NULL;
    fl_check(flowdb_options_set_data_dir(o, dir, &err), err, "data_dir");
    fl_check(flowdb_options_set_sync_mode(o, synced ? FLOWDB_SYNC_ALWAYS : FLOWDB_SYNC_INTERVAL, 1000, &err), err,
             "sync mode");
    fl_check(flowdb_options_set_block_cache_capacity_mb(o, cache_mb, &err), err, "cache");
    /* For experiments: FLOWDB_BLOCK_COMPRESSION=none|zstd|lz4 (the default: lz4). */
    const char *c = getenv("FLOWDB_BLOCK_COMPRESSION");
    if (c) {
        int v = strcmp(c, "none") == 0 ? FLOWDB_COMPRESSION_NONE
                : strcmp(c, "zstd") == 0 ? FLOWDB_COMPRESSION_ZSTD
                : strcmp(c, "lz4") == 0 ? FLOWDB_COMPRESSION_LZ4 : -1;
        fl_check(flowdb_options_set_block_compression(o, v, &err), err, "FLOWDB_BLOCK_COMPRESSION");
    }
    /* For experiments: FLOWDB_MEMTABLE_MB=N, the memtable size (the default: 64). */
    const char *m = getenv("FLOWDB_MEMTABLE_MB");
    if (m) fl_check(flowdb_options_set_memtable_size_mb(o, (size_t)atoi(m), &err), err, "FLOWDB_MEMTABLE_MB");
    /* FLOWDB_BLOCK_SIZE=N, the uncompressed size a data block is cut at (the default: 8192). */
    const char *bs = getenv("FLOWDB_BLOCK_SIZE");
    if (bs) fl_check(flowdb_options_set_block_size(o, (size_t)atoi(bs), &err), err, "FLOWDB_BLOCK_SIZE");
    /* FLOWDB_RESTART_INTERVAL=N, entries between a data block's restart points (the default: 16). */
    const char *ri = getenv("FLOWDB_RESTART_INTERVAL");
    if (ri)
        fl_check(flowdb_options_set_block_restart_interval(o, (size_t)atoi(ri), &err), err, "FLOWDB_RESTART_INTERVAL");
    /* FLOWDB_MEMTABLES_IN_CACHE=1: memtables charged to the block cache (off by default). */
    const char *mc = getenv("FLOWDB_MEMTABLES_IN_CACHE");
    if (mc && atoi(mc)) fl_check(flowdb_options_set_memtables_in_block_cache(o, true, &err), err, "FLOWDB_MEMTABLES_IN_CACHE");
    return o;
}
