#!/usr/bin/env python3
"""Generates test_abuse.c: every function of flowdb.h called with NULL in each pointer
argument in turn (the others valid), plus hand-written abuse (bad UTF-8 and JSON,
NULL with a length, double shutdown, use after shutdown, a finished transaction, an
upgrade used after its callback, subscriptions outliving their database). Functions
on a `flowdb_upgrade_t` are called from inside an upgrade callback (which then aborts
the upgrade), where the handle is valid.

Rules checked: a status-returning function given NULL where a pointer is required
returns FLOWDB_INVALID_ARGUMENT with an error message, and writes no output; a pointer-returning one returns NULL; a void one (free, stop) does
nothing. Built like the other C tests, so ctest runs it plainly, statically, under
ASan + UBSan and under valgrind: nothing may crash, leak or touch freed memory.

Usage: gen_abuse.py flowdb.h out.c
"""
import re
import sys

# (function, parameter) pairs where NULL is allowed and means something (documented
# in flowdb.h): the call runs normally.
OPTIONAL = {
    ("flowdb_engine_trigger_compaction", "compacted"),
    ("flowdb_engine_trigger_gc", "purged"),
    ("flowdb_engine_run_compactions", "steps"),
    ("flowdb_engine_enforce_retention", "has_cutoff"),
    ("flowdb_engine_enforce_retention", "cutoff"),
    ("flowdb_engine_metrics_text", "len"),
    ("flowdb_engine_patch_record", "value"),  # ignored unless set_value
    ("flowdb_jsondb_put", "key_out"),
    ("flowdb_jsondb_put_auto", "key_out"),
    ("flowdb_txn_put", "key_out"),
    ("flowdb_txn_put_auto", "key_out"),
    ("flowdb_jsondb_add", "key_out"),
    ("flowdb_txn_add", "key_out"),
    ("flowdb_jsondb_put_with_key", "key_out"),
    ("flowdb_jsondb_add_with_key", "key_out"),
    ("flowdb_txn_put_with_key", "key_out"),
    ("flowdb_txn_add_with_key", "key_out"),
    ("flowdb_jsondb_subscribe", "range"),  # NULL: every key
    ("flowdb_jsondb_subscribe_since", "range"),
    ("flowdb_jsondb_open_with_version", "user"),  # the callback's, never read by flowdb
    ("flowdb_jsondb_upgrade_to", "user"),
    ("flowdb_cursor_update", "key_out"),
    ("flowdb_jsondb_open_cursor", "index"),  # NULL: a cursor over the store itself
    ("flowdb_error_code", "err"),
    ("flowdb_error_message", "err"),
    ("flowdb_records_len", "list"),
    ("flowdb_series_len", "list"),
    ("flowdb_buckets_len", "list"),
    ("flowdb_range_prefix", "prefix"),
    ("flowdb_range_prefix_time", "prefix"),
    ("flowdb_range_key", "start"),
    ("flowdb_range_key", "end"),
    ("flowdb_range_key_time", "start"),
    ("flowdb_range_key_time", "end"),
    ("flowdb_jsondb_range_by_index", "start"),
    ("flowdb_jsondb_range_by_index", "end"),
    ("flowdb_txn_range_by_index", "start"),
    ("flowdb_txn_range_by_index", "end"),
    ("flowdb_engine_delete_range", "start"),
    ("flowdb_engine_delete_range", "end"),
    ("flowdb_engine_query_by_key_range", "start"),
    ("flowdb_engine_query_by_key_range", "end"),
    ("flowdb_engine_query_key_time_range", "start_key"),
    ("flowdb_engine_query_key_time_range", "end_key"),
    ("flowdb_query_where_range", "start"),
    ("flowdb_query_where_range", "end"),
    ("flowdb_engine_last_n_visit", "user"),  # the callback's, never read by flowdb
    ("flowdb_engine_last_n_visit", "handed_out"),
    ("flowdb_snapshot_last_n_visit", "user"),
    ("flowdb_snapshot_last_n_visit", "handed_out"),
    # A key visit: index NULL reads the store's own keys.
    ("flowdb_jsondb_get_all_keys_visit", "index"),
    ("flowdb_jsondb_get_all_keys_visit", "user"),
    ("flowdb_jsondb_get_all_keys_visit", "handed_out"),
    ("flowdb_txn_get_all_keys_visit", "index"),
    ("flowdb_txn_get_all_keys_visit", "user"),
    ("flowdb_txn_get_all_keys_visit", "handed_out"),
    # An event listener: f NULL removes it; user is the listener's, never read by flowdb.
    ("flowdb_engine_set_event_listener", "f"),
    ("flowdb_engine_set_event_listener", "user"),
    ("flowdb_jsondb_set_event_listener", "f"),
    ("flowdb_jsondb_set_event_listener", "user"),
}

# What a valid argument of each type is, and how to release an output of each type.
VALID = {
    "const struct flowdb_engine_t *": "E",
    "const struct flowdb_jsondb_t *": "J",
    "const struct flowdb_error_t *": "ERR",
    "const struct flowdb_key_range_t *": "KR",
    "const struct flowdb_range_t *": "R",
    "struct flowdb_range_t *": "RM",
    "const struct flowdb_key_ts_t *": "&KTS",
    "const struct flowdb_record_view_t *": "&RV",
    "const struct flowdb_point_t *": "&PT",
    "const struct flowdb_group_t *": "&GROUP",
    "const struct flowdb_rollup_rule_t *": "&RULE",
    "const int32_t *": "FNS",
    "const struct flowdb_buckets_t *": "BL",
    "const struct flowdb_options_t *": "OPTS",
    "struct flowdb_options_t *": "OPTS",
    "const struct flowdb_query_t *": "Q",
    "struct flowdb_query_t *": "Q",
    "const struct flowdb_records_t *": "RS",
    "const struct flowdb_series_t *": "SL",
    "const struct flowdb_iter_t *": "IT",
    "struct flowdb_iter_t *": "IT",
    "struct flowdb_txn_t *": "T",
    "struct flowdb_cursor_t *": "CU",
    "const struct flowdb_cursor_t *": "CU",
    "struct flowdb_upgrade_t *": "UP",  # the callback's (functions taking it run in one)
    "struct flowdb_subscription_t *": "SUB",
    "const struct flowdb_subscription_t *": "SUB",
    "struct flowdb_change_t *": "&change_out",
    "struct flowdb_write_batch_t *": "WB",
    "const struct flowdb_write_batch_t *": "WB",
    "const struct flowdb_snapshot_t *": "SN",
    "const char *const *": "STORES",
    "const char *": "\"1\"",
    "const uint8_t *": "(const uint8_t *)\"1\"",
    "struct flowdb_record_view_t *": "&rv_out",
    "struct flowdb_series_view_t *": "&sv_out",
    "struct flowdb_bucket_view_t *": "&bv_out",
    "double *": "&f64_out",
    "int32_t *": "&i32_out",
    "struct flowdb_stats_t *": "&stats_out",
    "bool *": "&bool_out",
    "uint64_t *": "&u64_out",
    "int64_t *": "&i64_out",
    "size_t *": "&usize_out",
    "const char **": "&lent_out",  # a lent pointer (flowdb_cursor_value_view): nothing to free
    "void *": "&visits",
    "bool": "false",
    "int32_t": "0",
    "int64_t": "0",
    "uint32_t": "1",
    "uint64_t": "0",
    "size_t": "1",
    "enum flowdb_direction_t": "FLOWDB_NEXT",
    "enum flowdb_txn_mode_t": "FLOWDB_READ_ONLY_TXN",
    "enum flowdb_sync_mode_t": "FLOWDB_SYNC_ALWAYS",
}
# Callback typedefs (function pointers, named without a `*`): a valid one, defined in
# PRELUDE; each is also given NULL in turn, as pointer arguments are.
CALLBACKS = {"flowdb_last_n_visit_fn": "count_visit", "flowdb_key_visit_fn": "count_key",
             "flowdb_event_fn": "count_event",
             "flowdb_upgrade_fn": "declining_upgrade"}
VALID.update(CALLBACKS)
NAMED = {"store": '"s"', "index": '"i"', "name": '"i"', "doc": '"{\\"id\\":3}"'}
OUTPUTS = {  # T ** -> (local type, release statement)
    "struct flowdb_engine_t **": ("flowdb_engine_t *", "flowdb_engine_shutdown({v}, NULL); flowdb_engine_free({v});"),
    "struct flowdb_jsondb_t **": ("flowdb_jsondb_t *", "flowdb_jsondb_shutdown({v}, NULL); flowdb_jsondb_free({v});"),
    "struct flowdb_iter_t **": ("flowdb_iter_t *", "flowdb_iter_free({v});"),
    "struct flowdb_records_t **": ("flowdb_records_t *", "flowdb_records_free({v});"),
    "struct flowdb_series_t **": ("flowdb_series_t *", "flowdb_series_free({v});"),
    "struct flowdb_buckets_t **": ("flowdb_buckets_t *", "flowdb_buckets_free({v});"),
    "struct flowdb_key_range_t **": ("flowdb_key_range_t *", "flowdb_key_range_free({v});"),
    "struct flowdb_maintenance_t **": ("flowdb_maintenance_t *", "flowdb_maintenance_stop({v});"),
    "struct flowdb_txn_t **": ("flowdb_txn_t *", "flowdb_txn_free({v});"),
    "struct flowdb_cursor_t **": ("flowdb_cursor_t *", "flowdb_cursor_free({v});"),
    "struct flowdb_subscription_t **": ("flowdb_subscription_t *", "flowdb_subscription_free({v});"),
    "struct flowdb_snapshot_t **": ("flowdb_snapshot_t *", "flowdb_snapshot_free({v});"),
    "char **": ("char *", "flowdb_string_free({v});"),
    # An error object as a result (flowdb_engine_background_error's `out`), not the
    # trailing `err` every status-returning function has.
    "struct flowdb_error_t **": ("flowdb_error_t *", "flowdb_error_free({v});"),
}
RETURNED = {  # pointer return type -> release statement
    "struct flowdb_records_t *": "flowdb_records_free(ret);",
    "struct flowdb_range_t *": "flowdb_range_free(ret);",
    "struct flowdb_query_t *": "flowdb_query_free(ret);",
    "struct flowdb_key_range_t *": "flowdb_key_range_free(ret);",
    "struct flowdb_options_t *": "flowdb_options_free(ret);",
    "struct flowdb_write_batch_t *": "flowdb_write_batch_free(ret);",
}


def functions(header):
    h = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    h = re.sub(r"//[^\n]*", "", h)
    for ret, name, params in re.findall(r"\n([A-Za-z_][\w \*]*?)\b(flowdb_\w+)\(([^;{]*?)\);", h):
        ps = []
        for p in params.split(","):
            p = " ".join(p.split())
            if p in ("", "void"):
                continue
            m = re.match(r"(.*?)\s*\b(\w+)$", p)
            ps.append((" ".join(m.group(1).replace("*", " * ").split()).replace("* *", "**").replace("* const *", "*const *"), m.group(2)))
        yield " ".join(ret.split()), name, ps


def norm(t):
    return t.replace(" *", " *").replace("*const *", "*const *")


def is_err(t, pname):
    """The trailing error out-parameter of a status-returning function."""
    return t == "struct flowdb_error_t **" and pname == "err"


def call(ret, name, params, null_at):
    lines = ["    { /* %s: %s = NULL */" % (name, params[null_at][1])]
    args, releases = [], []
    types = {t for t, _ in params}
    fresh = [
        ({"struct flowdb_txn_t *"}, "flowdb_txn_t *T = NULL; flowdb_jsondb_transaction(J, STORES, 1, FLOWDB_READ_WRITE_TXN, &T, NULL);", "flowdb_txn_free(T);"),
        # A cursor on its first document, in a read-write transaction of its own.
        ({"struct flowdb_cursor_t *", "const struct flowdb_cursor_t *"},
         "flowdb_txn_t *CT = NULL; flowdb_jsondb_transaction(J, STORES, 1, FLOWDB_READ_WRITE_TXN, &CT, NULL); "
         "flowdb_cursor_t *CU = NULL; flowdb_txn_open_cursor(CT, \"s\", KR, FLOWDB_NEXT, &CU, NULL);",
         "flowdb_cursor_free(CU); flowdb_txn_free(CT);"),
        ({"struct flowdb_subscription_t *", "const struct flowdb_subscription_t *"},
         "flowdb_subscription_t *SUB = NULL; flowdb_jsondb_subscribe(J, STORES, 1, NULL, &SUB, NULL);",
         "flowdb_subscription_free(SUB);"),
        ({"struct flowdb_iter_t *", "const struct flowdb_iter_t *"}, "flowdb_iter_t *IT = NULL; flowdb_engine_scan(E, R, &IT, NULL);", "flowdb_iter_free(IT);"),
        ({"struct flowdb_query_t *", "const struct flowdb_query_t *"}, "flowdb_query_t *Q = flowdb_query_new(\"s\");", "flowdb_query_free(Q);"),
        ({"struct flowdb_options_t *", "const struct flowdb_options_t *"}, "flowdb_options_t *OPTS = fresh_options();", "flowdb_options_free(OPTS);"),
        ({"struct flowdb_write_batch_t *", "const struct flowdb_write_batch_t *"}, "flowdb_write_batch_t *WB = flowdb_write_batch_new();", "flowdb_write_batch_free(WB);"),
        ({"const struct flowdb_snapshot_t *"}, "flowdb_snapshot_t *SN = NULL; flowdb_engine_snapshot(E, &SN, NULL);", "flowdb_snapshot_free(SN);"),
        ({"const struct flowdb_records_t *"}, "flowdb_records_t *RS = NULL; flowdb_engine_get(E, (const uint8_t *)\"1\", 1, 0, &RS, NULL);", "flowdb_records_free(RS);"),
        ({"const struct flowdb_series_t *"}, "flowdb_series_t *SL = NULL; flowdb_engine_series(E, NULL, 0, NULL, 0, UINT64_MAX, &SL, NULL);", "flowdb_series_free(SL);"),
        # A list of one bucket (of the point setup writes).
        ({"const struct flowdb_buckets_t *"}, "flowdb_buckets_t *BL = NULL; flowdb_engine_aggregate(E, R, 1, FNS, 1, &BL, NULL);", "flowdb_buckets_free(BL);"),
        # A range of its own for the setters (the shared R stays as it is) and for _free.
        ({"struct flowdb_range_t *"}, "flowdb_range_t *RM = flowdb_range_all();", "flowdb_range_free(RM);"),
    ]
    for ts, make, free in fresh:
        if types & ts:
            lines.append("        " + make)
            releases.append(free)
    lines.append("        flowdb_record_view_t rv_out; flowdb_series_view_t sv_out; flowdb_bucket_view_t bv_out; flowdb_stats_t stats_out; flowdb_change_t change_out; bool bool_out; uint64_t u64_out; int64_t i64_out; size_t usize_out; double f64_out; int32_t i32_out; const char *lent_out;")
    lines.append("        memset(&stats_out, 0, sizeof stats_out); stats_out.struct_size = sizeof stats_out;")
    lines.append("        (void)rv_out; (void)sv_out; (void)bv_out; (void)change_out; (void)bool_out; (void)u64_out; (void)i64_out; (void)usize_out; (void)f64_out; (void)i32_out; (void)lent_out;")
    lines.append("        flowdb_error_t *e = NULL;")
    outs = []
    for i, (t, pname) in enumerate(params):
        if is_err(t, pname):
            args.append("&e")
        elif i == null_at:
            args.append("NULL")
        elif t in OUTPUTS:
            local, rel = OUTPUTS[t]
            v = "out%d" % i
            lines.append("        %s%s = NULL;" % (local, v))
            args.append("&" + v)
            outs.append((v, rel))
        elif t == "struct flowdb_error_t *":
            args.append("NULL")  # only flowdb_error_free takes one, and frees it
        elif t == "char *":
            args.append("NULL")  # only flowdb_string_free
        elif t == "const char *" and pname in NAMED:
            args.append(NAMED[pname])
        elif t == "size_t" and i > 0 and args[-1].endswith('"') and pname.endswith("len"):
            args.append("strlen(%s)" % args[-1].split(")")[-1])  # the length of the string before it
        elif t == "size_t" and pname == "i":
            args.append("0")
        elif t in VALID:
            args.append(VALID[t])
        else:
            raise SystemExit("no valid value for %r (%s of %s)" % (t, pname, name))
    optional = (name, params[null_at][1]) in OPTIONAL
    invoke = "%s(%s)" % (name, ", ".join(args))
    if ret == "enum flowdb_status_t":
        lines.append("        flowdb_status_t st = %s;" % invoke)
        if not optional:
            lines.append("        EXPECT(st == FLOWDB_INVALID_ARGUMENT, \"%s(%s = NULL) returned %%d\", (int)st);" % (name, params[null_at][1]))
            lines.append("        EXPECT(e != NULL && flowdb_error_message(e)[0] != '\\0', \"%s: no error message\");" % name)
            for v, _ in outs:
                lines.append("        EXPECT(%s == NULL, \"%s wrote an output on failure\");" % (v, name))
        else:
            lines.append("        accepted++; (void)st;")
    elif ret.endswith("*") and ret in RETURNED:
        lines.append("        %sret = %s;" % (ret, invoke))
        if not optional:
            lines.append("        EXPECT(ret == NULL, \"%s(%s = NULL) returned an object\");" % (name, params[null_at][1]))
        lines.append("        " + RETURNED[ret])
    elif ret == "void":
        lines.append("        %s;" % invoke)
    else:
        lines.append("        (void)%s;" % invoke)
    for v, rel in outs:
        lines.append("        if (%s) { %s }" % (v, rel.format(v=v)))
    lines.append("        flowdb_error_free(e);")
    for r in releases:
        lines.append("        " + r)
    lines.append("        calls++;")
    lines.append("    }")
    return "\n".join(lines)


PRELUDE = r'''/* Generated by tests/c/gen_abuse.py from flowdb.h; do not edit. */
#define _DEFAULT_SOURCE
#include "flowdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every function is called, the deprecated ones (flowdb_engine_close, ...) too. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static int failures = 0, calls = 0, accepted = 0, opts_made = 0;
static char root[256];
#define EXPECT(cond, ...)                                                    \
    do {                                                                     \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "line %d: ", __LINE__);                          \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

static flowdb_options_t *fresh_options(void) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s/o%d", root, opts_made++);
    flowdb_options_t *o = flowdb_options_new();
    flowdb_options_set_data_dir(o, dir, NULL);
    flowdb_options_set_auto_background(o, false, NULL);
    return o;
}

static flowdb_engine_t *E;
static flowdb_jsondb_t *J;
static flowdb_error_t *ERR;
static flowdb_key_range_t *KR;
static flowdb_range_t *R;
static const char *STORES[] = {"s"};
static flowdb_key_ts_t KTS;
static flowdb_record_view_t RV;
/* A numeric point (written by setup), the functions count and sum, a grouping. */
static flowdb_point_t PT;
static const int32_t FNS[] = {FLOWDB_AGG_COUNT, FLOWDB_AGG_SUM};
static flowdb_group_t GROUP = {FLOWDB_GROUP_UP_TO_LAST, 0, '.'};
/* A rollup rule: count and sum per minute of every series, default delay. */
static flowdb_rollup_rule_t RULE = {"r", NULL, 0, 60000000, FNS, 2, 0, -1};

/* The callback given to every flowdb_last_n_visit_fn argument: counts its calls in
 * the size_t at `user` (when not NULL) and reads the value it is lent. */
static size_t visits, visited_bytes;
static bool count_visit(int64_t ts, const uint8_t *value, size_t value_len, void *user) {
    (void)ts;
    for (size_t i = 0; i < value_len; i++) visited_bytes += value[i] != 0;
    if (user) (*(size_t *)user)++;
    return true;
}

/* The callback given to every flowdb_key_visit_fn argument: counts its calls in the
 * size_t at `user` (when not NULL) and reads the key it is lent. */
static bool count_key(const flowdb_key_view_t *key, void *user) {
    visited_bytes += (size_t)key->kind + key->boolean + (key->number != 0);
    for (size_t i = 0; key->text && i <= key->len; i++) visited_bytes += key->text[i] != 0;
    if (user) (*(size_t *)user)++;
    return true;
}

/* The listener given to every flowdb_event_fn argument. It may run on the event
 * threads of E and J at once, after the call that set it returned (until teardown), so
 * it counts atomically and never reads `user` (the harness passes NULL or &visits). It
 * reads the whole event, so ASan and valgrind check that it is valid. */
static size_t events_seen, event_fields;
static void count_event(const flowdb_event_t *event, void *user) {
    (void)user;
    size_t n = (size_t)event->kind + (size_t)event->duration_us + (size_t)event->tables_in + (size_t)event->tables_out +
               (size_t)event->bytes + (size_t)event->stops_writes + (event->message ? strlen(event->message) : 0);
    __atomic_fetch_add(&events_seen, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&event_fields, n, __ATOMIC_RELAXED);
}

/* The callback given to every flowdb_upgrade_fn argument: declines (the upgrade is
 * aborted, nothing changes). */
static size_t upgrades_called;
static int declining_upgrade(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
    (void)up; (void)old_version; (void)new_version; (void)user;
    upgrades_called++;
    return 1;
}

/* Runs `f` as the callback of an upgrade of J that it aborts (J stays at version 0),
 * where the flowdb_upgrade_t it is given is valid. */
typedef int (*upgrade_body)(flowdb_upgrade_t *UP, uint64_t old_version, uint64_t new_version, void *user);
static void in_upgrade(upgrade_body f, const char *name) {
    size_t before = upgrades_called;
    flowdb_status_t st = flowdb_jsondb_upgrade_to(J, 1, f, NULL, NULL);
    EXPECT(st != FLOWDB_OK && upgrades_called == before + 1, "%s: the upgrade around it did not run (%s)", name, flowdb_status_str(st));
}

static void setup(void) {
    snprintf(root, sizeof root, "/tmp/flowdb-abuse-XXXXXX");
    if (!mkdtemp(root)) { perror("mkdtemp"); exit(2); }
    if (chdir(root) != 0) { perror("chdir"); exit(2); }
    flowdb_options_t *o = fresh_options();
    if (flowdb_engine_open(o, &E, NULL) != FLOWDB_OK) { fprintf(stderr, "open\n"); exit(2); }
    flowdb_options_free(o);
    o = fresh_options();
    if (flowdb_jsondb_open(o, &J, NULL) != FLOWDB_OK) { fprintf(stderr, "jsondb open\n"); exit(2); }
    flowdb_options_free(o);
    const char *schema = "{\"name\":\"s\",\"key_path\":\"id\",\"indexes\":[{\"name\":\"i\",\"key_path\":\"v\"}]}";
    if (flowdb_jsondb_create_store(J, schema, strlen(schema), NULL) != FLOWDB_OK) {
        if (flowdb_jsondb_create_object_store(J, "s", "id", NULL) != FLOWDB_OK) { fprintf(stderr, "store\n"); exit(2); }
        flowdb_jsondb_create_index_on(J, "s", "i", "v", false, NULL);
    }
    const char *doc = "{\"id\":1,\"v\":2}";
    flowdb_jsondb_put(J, "s", doc, strlen(doc), NULL, NULL);
    KTS.key = (const uint8_t *)"1"; KTS.key_len = 1; KTS.ts = 0;
    RV.key = (const uint8_t *)"1"; RV.key_len = 1; RV.ts = 0; RV.expire_at = FLOWDB_NEVER_EXPIRES;
    RV.value = (const uint8_t *)"v"; RV.value_len = 1;
    flowdb_engine_write_batch(E, &RV, 1, NULL);
    PT.key = (const uint8_t *)"p"; PT.key_len = 1; PT.ts = 0; PT.value = 1.5;
    flowdb_engine_write_points(E, &PT, 1, NULL);
    flowdb_engine_open(NULL, NULL, &ERR); /* an error object to read */
    KR = flowdb_key_range_all();
    R = flowdb_range_all();
}

static void teardown(void) {
    flowdb_range_free(R);
    flowdb_key_range_free(KR);
    flowdb_error_free(ERR);
    flowdb_jsondb_shutdown(J, NULL);
    flowdb_jsondb_free(J);
    flowdb_engine_shutdown(E, NULL);
    flowdb_engine_free(E);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
}

static void null_arguments(void) {
'''

HANDWRITTEN = r'''
}

static void check(flowdb_status_t got, flowdb_status_t want, flowdb_error_t **e, const char *what) {
    EXPECT(got == want, "%s: got %s, want %s", what, flowdb_status_str(got), flowdb_status_str(want));
    if (want != FLOWDB_OK)
        EXPECT(*e != NULL && flowdb_error_message(*e)[0] != '\0', "%s: no error message", what);
    flowdb_error_free(*e);
    *e = NULL;
}

/* An upgrade callback that keeps its flowdb_upgrade_t and a transaction handle on it
 * past the call, then aborts the upgrade. */
static flowdb_upgrade_t *kept_up;
static flowdb_txn_t *kept_txn;
static int keeping_upgrade(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
    (void)old_version; (void)new_version; (void)user;
    upgrades_called++;
    kept_up = up;
    flowdb_upgrade_txn(up, &kept_txn, NULL);
    flowdb_upgrade_create_object_store(up, "kept", "[]", NULL);
    return 1;
}

/* Bad bytes and bad JSON, NULL with a length, out-of-range enums, and handles used
 * after they were shut down or finished. */
static void bad_input_and_lifetimes(void) {
    flowdb_error_t *e = NULL;
    char *out = NULL;
    const char bad_utf8[] = "\xff\xfe\x80";
    check(flowdb_jsondb_put(J, bad_utf8, "{}", 2, NULL, &e), FLOWDB_INVALID_ARGUMENT, &e, "store name not UTF-8");
    check(flowdb_jsondb_put(J, "s", "{\"id\":", 6, NULL, &e), FLOWDB_INVALID_ARGUMENT, &e, "truncated JSON");
    check(flowdb_jsondb_put(J, "s", bad_utf8, 3, NULL, &e), FLOWDB_INVALID_ARGUMENT, &e, "JSON not UTF-8");
    check(flowdb_jsondb_put(J, "s", "[1,2]", 5, NULL, &e), FLOWDB_DATA, &e, "a document that is not an object");
    size_t deep_n = 100000;
    char *deep = malloc(deep_n);
    memset(deep, '[', deep_n);
    flowdb_status_t st = flowdb_jsondb_put(J, "s", deep, deep_n, NULL, &e);
    EXPECT(st == FLOWDB_INVALID_ARGUMENT, "deeply nested JSON: %s", flowdb_status_str(st));
    flowdb_error_free(e); e = NULL;
    free(deep);
    check(flowdb_jsondb_get(J, "s", "{", 1, &out, &e), FLOWDB_INVALID_ARGUMENT, &e, "bad key JSON");
    EXPECT(out == NULL, "output on failure");
    check(flowdb_jsondb_get(J, "s", NULL, 5, &out, &e), FLOWDB_INVALID_ARGUMENT, &e, "NULL key with a length");
    check(flowdb_engine_get(E, NULL, 7, 0, NULL, &e), FLOWDB_INVALID_ARGUMENT, &e, "NULL key and output");
    flowdb_record_view_t r = RV;
    r.key = NULL;
    r.key_len = 3;
    check(flowdb_engine_write_batch(E, &r, 1, &e), FLOWDB_INVALID_ARGUMENT, &e, "record with NULL key");
    r = RV;
    r.value = NULL;
    r.value_len = 3;
    check(flowdb_engine_write_batch(E, &r, 1, &e), FLOWDB_INVALID_ARGUMENT, &e, "record with NULL value");
    r = RV;
    r.key_len = 0;
    check(flowdb_engine_write_batch(E, &r, 1, &e), FLOWDB_INVALID_ARGUMENT, &e, "empty key");
    r = RV;
    r.key_len = FLOWDB_MAX_KEY_LEN + 1;
    r.key = calloc(1, r.key_len);
    check(flowdb_engine_write_batch(E, &r, 1, &e), FLOWDB_INVALID_ARGUMENT, &e, "key too long");
    free((void *)r.key);
    check(flowdb_engine_write_batch(E, NULL, 0, &e), FLOWDB_OK, &e, "empty batch");
    /* Deleting by time: reversed key or time ranges, NULL with a length. */
    check(flowdb_engine_delete_time_range(E, (const uint8_t *)"b", 1, (const uint8_t *)"a", 1, 0, 1, &e), FLOWDB_INVALID_ARGUMENT, &e, "delete_time_range start > end");
    check(flowdb_engine_delete_time_range(E, (const uint8_t *)"a", 1, (const uint8_t *)"b", 1, 5, 4, &e), FLOWDB_INVALID_ARGUMENT, &e, "delete_time_range ts_start > ts_end");
    check(flowdb_engine_delete_time_range(E, NULL, 3, (const uint8_t *)"b", 1, 0, 1, &e), FLOWDB_INVALID_ARGUMENT, &e, "delete_time_range NULL start with a length");
    check(flowdb_engine_delete_prefix_before(E, NULL, 2, 5, &e), FLOWDB_INVALID_ARGUMENT, &e, "delete_prefix_before NULL prefix with a length");
    check(flowdb_engine_delete_time_range(E, NULL, 0, NULL, 0, INT64_MIN, INT64_MAX, &e), FLOWDB_OK, &e, "delete_time_range of an empty key range");
    check(flowdb_engine_delete_before(E, INT64_MIN, &e), FLOWDB_OK, &e, "delete_before(INT64_MIN)");
    flowdb_write_batch_t *wb = flowdb_write_batch_new();
    check(flowdb_write_batch_delete_time_range(wb, (const uint8_t *)"a", 1, (const uint8_t *)"b", 1, 9, 1, &e), FLOWDB_OK, &e, "batch delete_time_range (checked at write)");
    check(flowdb_engine_write(E, wb, false, &e), FLOWDB_INVALID_ARGUMENT, &e, "batch with ts_start > ts_end");
    check(flowdb_write_batch_delete_prefix_before(wb, NULL, 4, 1, &e), FLOWDB_INVALID_ARGUMENT, &e, "batch delete_prefix_before NULL with a length");
    flowdb_write_batch_free(wb);
    check(flowdb_engine_write_batch(E, NULL, 2, &e), FLOWDB_INVALID_ARGUMENT, &e, "NULL batch of 2");
    /* Numeric points and aggregation: NULL with a length, numbers that are no
     * flowdb_agg_t or flowdb_group_kind_t, bad steps, no function, an index past the
     * list, a value that is not 8 bytes, unknown names. */
    flowdb_point_t pt = PT;
    pt.key = NULL;
    pt.key_len = 2;
    check(flowdb_engine_write_points(E, &pt, 1, &e), FLOWDB_INVALID_ARGUMENT, &e, "point with NULL key");
    flowdb_write_batch_t *pb = flowdb_write_batch_new();
    check(flowdb_write_batch_put_point(pb, &pt, &e), FLOWDB_INVALID_ARGUMENT, &e, "batch point with NULL key");
    check(flowdb_write_batch_put_point_ttl(pb, &pt, 5, &e), FLOWDB_INVALID_ARGUMENT, &e, "batch point (TTL) with NULL key");
    EXPECT(flowdb_write_batch_count(pb) == 0, "a rejected point was added to the batch");
    flowdb_write_batch_free(pb);
    check(flowdb_engine_write_points(E, NULL, 2, &e), FLOWDB_INVALID_ARGUMENT, &e, "NULL points of 2");
    check(flowdb_engine_write_points(E, NULL, 0, &e), FLOWDB_OK, &e, "no points");
    pt = PT;
    pt.key_len = 0;
    check(flowdb_engine_write_points(E, &pt, 1, &e), FLOWDB_INVALID_ARGUMENT, &e, "point with an empty key");
    flowdb_buckets_t *bl = NULL;
    const int32_t bad_fns[][2] = {{FLOWDB_AGG_SUM, 9}, {-1, FLOWDB_AGG_SUM}, {INT32_MIN, INT32_MAX}};
    for (int i = 0; i < 3; i++)
        check(flowdb_engine_aggregate(E, R, 1, bad_fns[i], 2, &bl, &e), FLOWDB_INVALID_ARGUMENT, &e, "a function that is no flowdb_agg_t");
    check(flowdb_engine_aggregate(E, R, 0, FNS, 2, &bl, &e), FLOWDB_INVALID_ARGUMENT, &e, "step 0");
    check(flowdb_engine_aggregate(E, R, INT64_MIN, FNS, 2, &bl, &e), FLOWDB_INVALID_ARGUMENT, &e, "step INT64_MIN");
    check(flowdb_engine_aggregate(E, R, 1, NULL, 0, &bl, &e), FLOWDB_INVALID_ARGUMENT, &e, "no function");
    check(flowdb_engine_aggregate(E, R, 1, FNS, 0, &bl, &e), FLOWDB_INVALID_ARGUMENT, &e, "no function (0 of FNS)");
    check(flowdb_engine_aggregate(E, R, 1, NULL, 3, &bl, &e), FLOWDB_INVALID_ARGUMENT, &e, "NULL functions of 3");
    const int32_t kinds[] = {4, -1, INT32_MAX};
    for (int i = 0; i < 3; i++) {
        flowdb_group_t g = GROUP;
        g.kind = kinds[i];
        check(flowdb_engine_aggregate_by(E, R, 1, FNS, 2, &g, &bl, &e), FLOWDB_INVALID_ARGUMENT, &e, "a group kind that is no flowdb_group_kind_t");
    }
    EXPECT(bl == NULL, "aggregate output on failure");
    check(flowdb_engine_aggregate(E, R, INT64_MAX, FNS, 2, &bl, &e), FLOWDB_OK, &e, "aggregate, step INT64_MAX");
    EXPECT(flowdb_buckets_len(bl) == 1, "%zu buckets of one point", flowdb_buckets_len(bl));
    flowdb_bucket_view_t bv;
    memset(&bv, 0x5a, sizeof bv);
    check(flowdb_buckets_at(bl, 1, &bv, &e), FLOWDB_INVALID_ARGUMENT, &e, "bucket past the list");
    check(flowdb_buckets_at(bl, SIZE_MAX, &bv, &e), FLOWDB_INVALID_ARGUMENT, &e, "bucket SIZE_MAX");
    EXPECT(bv.n_values == (size_t)0x5a5a5a5a5a5a5a5aull, "bucket view written on failure");
    check(flowdb_buckets_at(bl, 0, &bv, &e), FLOWDB_OK, &e, "bucket 0");
    EXPECT(bv.n_values == 2 && bv.values[0] == 1 && bv.values[1] == 1.5 && bv.key_len == 1 && bv.key[0] == 'p', "bucket of PT");
    flowdb_buckets_free(bl);
    double d = 7;
    check(flowdb_record_as_f64(&RV, &d, &e), FLOWDB_INVALID_ARGUMENT, &e, "a 1-byte value as a number");
    r = RV;
    r.value = NULL;
    r.value_len = 8;
    check(flowdb_record_as_f64(&r, &d, &e), FLOWDB_INVALID_ARGUMENT, &e, "as_f64 of a NULL value with a length");
    EXPECT(d == 7, "as_f64 output on failure");
    int32_t agg = -7;
    check(flowdb_agg_from_name("median", &agg, &e), FLOWDB_INVALID_ARGUMENT, &e, "agg name median");
    check(flowdb_agg_from_name("SUM", &agg, &e), FLOWDB_INVALID_ARGUMENT, &e, "agg name in capitals");
    check(flowdb_agg_from_name(bad_utf8, &agg, &e), FLOWDB_INVALID_ARGUMENT, &e, "agg name not UTF-8");
    EXPECT(agg == -7, "agg_from_name output on failure");
    EXPECT(flowdb_agg_name(9) == NULL && flowdb_agg_name(-1) == NULL && flowdb_agg_name(INT32_MIN) == NULL, "a name for no flowdb_agg_t");
    /* Series lists, seeks and range settings: out-of-range indexes, NULL with a length. */
    flowdb_series_t *sl = NULL;
    check(flowdb_engine_series(E, NULL, 0, NULL, 0, UINT64_MAX, &sl, &e), FLOWDB_OK, &e, "series");
    flowdb_series_view_t sv;
    check(flowdb_series_at(sl, flowdb_series_len(sl), &sv, &e), FLOWDB_INVALID_ARGUMENT, &e, "series_at past the end");
    check(flowdb_series_at(sl, SIZE_MAX, &sv, &e), FLOWDB_INVALID_ARGUMENT, &e, "series_at SIZE_MAX");
    flowdb_series_free(sl);
    flowdb_series_free(NULL);
    sl = NULL;
    check(flowdb_engine_series(E, (const uint8_t *)"1", 1, NULL, 4, 1, &sl, &e), FLOWDB_INVALID_ARGUMENT, &e, "series NULL after with a length");
    EXPECT(sl == NULL, "series output on failure");
    flowdb_range_t *rr = flowdb_range_all();
    check(flowdb_range_set_limit(rr, 0, &e), FLOWDB_OK, &e, "limit 0");
    check(flowdb_range_set_reverse(rr, true, &e), FLOWDB_OK, &e, "reverse");
    flowdb_iter_t *si = NULL;
    check(flowdb_engine_scan(E, rr, &si, &e), FLOWDB_OK, &e, "scan with limit 0");
    bool more = true;
    check(flowdb_iter_next(si, &more, &e), FLOWDB_OK, &e, "next of limit 0");
    EXPECT(!more, "a scan with limit 0 gave a record");
    check(flowdb_iter_seek(si, (const uint8_t *)"1", 1, 0, &e), FLOWDB_OK, &e, "seek of limit 0");
    more = true;
    check(flowdb_iter_next(si, &more, &e), FLOWDB_OK, &e, "next after seek of limit 0");
    EXPECT(!more, "a seek revived a scan with limit 0");
    check(flowdb_iter_seek(si, NULL, 3, 0, &e), FLOWDB_INVALID_ARGUMENT, &e, "seek NULL key with a length");
    flowdb_iter_free(si);
    si = NULL;
    check(flowdb_engine_scan(E, R, &si, &e), FLOWDB_OK, &e, "scan");
    check(flowdb_iter_next(si, &more, &e), FLOWDB_OK, &e, "next");
    EXPECT(more, "the scan of everything is empty");
    check(flowdb_iter_record(si, &r, &e), FLOWDB_OK, &e, "record");
    check(flowdb_iter_seek(si, NULL, 0, INT64_MIN, &e), FLOWDB_OK, &e, "seek to the start");
    check(flowdb_iter_record(si, &r, &e), FLOWDB_INVALID_ARGUMENT, &e, "record after a seek, before next");
    bool point = true;
    check(flowdb_iter_is_point(si, &point, &e), FLOWDB_OK, &e, "is_point after a seek, before next");
    EXPECT(!point, "is_point true with no current record");
    flowdb_iter_free(si);
    flowdb_range_free(rr);
    flowdb_txn_t *t = NULL;
    check(flowdb_jsondb_transaction(J, STORES, 1, 7, &t, &e), FLOWDB_INVALID_ARGUMENT, &e, "bad mode");
    EXPECT(t == NULL, "txn on failure");
    check(flowdb_jsondb_get_range(J, "s", KR, 42, &out, &e), FLOWDB_INVALID_ARGUMENT, &e, "bad direction");
    flowdb_options_t *o = flowdb_options_new();
    check(flowdb_options_set_sync_mode(o, 9, 0, &e), FLOWDB_INVALID_ARGUMENT, &e, "bad sync mode");
    check(flowdb_options_set_data_dir(o, bad_utf8, &e), FLOWDB_INVALID_ARGUMENT, &e, "data dir not UTF-8");
    check(flowdb_options_add_metrics_label(o, bad_utf8, "v", &e), FLOWDB_INVALID_ARGUMENT, &e, "label name not UTF-8");
    check(flowdb_options_add_metrics_label(o, "db", bad_utf8, &e), FLOWDB_INVALID_ARGUMENT, &e, "label value not UTF-8");
    flowdb_options_free(o);
    flowdb_options_free(NULL);

    /* A finished transaction answers TRANSACTION_INACTIVE, twice over. */
    check(flowdb_jsondb_transaction(J, STORES, 1, FLOWDB_READ_WRITE_TXN, &t, &e), FLOWDB_OK, &e, "txn");
    check(flowdb_txn_commit(t, &e), FLOWDB_OK, &e, "commit");
    check(flowdb_txn_commit(t, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "commit twice");
    check(flowdb_txn_abort(t, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "abort after commit");
    check(flowdb_txn_put(t, "s", "{\"id\":5}", 8, NULL, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "put after commit");
    flowdb_txn_free(t);

    /* Cursors outliving their transaction (committed, then freed): every call is
     * TRANSACTION_INACTIVE and writes no output; freed after it, in either order. */
    check(flowdb_jsondb_transaction(J, STORES, 1, FLOWDB_READ_WRITE_TXN, &t, &e), FLOWDB_OK, &e, "txn for cursors");
    flowdb_cursor_t *cu[3] = {NULL, NULL, NULL};
    check(flowdb_txn_open_cursor(t, "s", KR, FLOWDB_NEXT, &cu[0], &e), FLOWDB_OK, &e, "cursor");
    check(flowdb_txn_open_index_cursor(t, "s", "i", KR, FLOWDB_PREV, &cu[1], &e), FLOWDB_OK, &e, "index cursor");
    check(flowdb_txn_open_key_cursor(t, "s", KR, 9, &cu[2], &e), FLOWDB_INVALID_ARGUMENT, &e, "cursor with a bad direction");
    EXPECT(cu[2] == NULL, "cursor output on failure");
    check(flowdb_txn_open_index_key_cursor(t, "s", "nope", KR, FLOWDB_NEXT, &cu[2], &e), FLOWDB_NOT_FOUND, &e, "cursor on an unknown index");
    check(flowdb_txn_commit(t, &e), FLOWDB_OK, &e, "commit under cursors");
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++) {
            bool on = true;
            char *o = NULL;
            check(flowdb_cursor_continue(cu[i], &on, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "continue after the transaction");
            check(flowdb_cursor_advance(cu[i], 1, &on, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "advance after the transaction");
            check(flowdb_cursor_continue_to(cu[i], "9", 1, &on, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "continue_to after the transaction");
            check(flowdb_cursor_continue_primary_key(cu[i], "9", 1, "9", 1, &on, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "continue_primary_key after the transaction");
            EXPECT(on, "has_entry written on failure");
            check(flowdb_cursor_key(cu[i], &o, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "key after the transaction");
            check(flowdb_cursor_primary_key(cu[i], &o, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "primary_key after the transaction");
            check(flowdb_cursor_value(cu[i], &o, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "value after the transaction");
            EXPECT(o == NULL, "cursor output on failure");
            check(flowdb_cursor_update(cu[i], "{\"id\":1}", 8, &o, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "update after the transaction");
            check(flowdb_cursor_delete(cu[i], &e), FLOWDB_TRANSACTION_INACTIVE, &e, "delete after the transaction");
        }
        if (round == 0) flowdb_txn_free(t); /* the second round: the transaction is gone */
    }
    flowdb_cursor_free(cu[0]);
    flowdb_cursor_free(cu[1]);
    flowdb_cursor_free(NULL);

    /* An upgrade and its transaction kept past the callback: TRANSACTION_INACTIVE,
     * never a crash; so is a made-up upgrade handle (it is never dereferenced). The
     * declined upgrade left J as it was. Out-of-line keys on an in-line store: DATA. */
    check(flowdb_jsondb_upgrade_to(J, 1, keeping_upgrade, NULL, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "declined upgrade");
    EXPECT(kept_up != NULL && kept_txn != NULL, "the upgrade callback did not run");
    const char *kp[1] = {"v"};
    flowdb_upgrade_t *made_up = (flowdb_upgrade_t *)(uintptr_t)0x5bd1e995;
    for (int round = 0; round < 2; round++) {
        flowdb_upgrade_t *u = round == 0 ? kept_up : made_up;
        flowdb_txn_t *ut = NULL;
        check(flowdb_upgrade_txn(u, &ut, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade_txn after the callback");
        EXPECT(ut == NULL, "upgrade_txn output on failure");
        check(flowdb_upgrade_create_object_store(u, "x", "id", &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade create_object_store after the callback");
        check(flowdb_upgrade_create_store(u, "{}", 2, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade create_store after the callback");
        check(flowdb_upgrade_delete_object_store(u, "s", &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade delete_object_store after the callback");
        check(flowdb_upgrade_create_index_with(u, "s", "x", kp, 1, false, false, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade create_index_with after the callback");
        check(flowdb_upgrade_delete_index(u, "s", "i", &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade delete_index after the callback");
        check(flowdb_upgrade_rename_store(u, "s", "x", &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade rename_store after the callback");
        check(flowdb_upgrade_rename_index(u, "s", "i", "x", &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade rename_index after the callback");
    }
    check(flowdb_txn_put(kept_txn, "s", "{\"id\":7}", 8, NULL, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade txn put after the callback");
    check(flowdb_txn_commit(kept_txn, &e), FLOWDB_TRANSACTION_INACTIVE, &e, "upgrade txn commit after the callback");
    flowdb_txn_free(kept_txn);
    uint64_t version = 9;
    check(flowdb_jsondb_version(J, &version, &e), FLOWDB_OK, &e, "version");
    EXPECT(version == 0, "a declined upgrade changed the version to %llu", (unsigned long long)version);
    check(flowdb_jsondb_upgrade_to(J, 0, declining_upgrade, NULL, &e), FLOWDB_INVALID_ARGUMENT, &e, "upgrade to version 0");
    check(flowdb_jsondb_put_with_key(J, "s", "{}", 2, "1", 1, NULL, &e), FLOWDB_DATA, &e, "put_with_key on an in-line store");
    check(flowdb_jsondb_put_with_key(J, "s", "{}", 2, NULL, 4, NULL, &e), FLOWDB_INVALID_ARGUMENT, &e, "put_with_key NULL key with a length");
    check(flowdb_jsondb_subscribe(J, STORES, 1, KR, NULL, &e), FLOWDB_INVALID_ARGUMENT, &e, "subscribe without out");

    /* Shut down twice, then used: CLOSED, never a crash; free once. */
    flowdb_options_t *o2 = fresh_options();
    flowdb_engine_t *e2 = NULL;
    check(flowdb_engine_open(o2, &e2, &e), FLOWDB_OK, &e, "open");
    flowdb_iter_t *it = NULL;
    check(flowdb_engine_scan(e2, R, &it, &e), FLOWDB_OK, &e, "scan");
    flowdb_snapshot_t *sn2 = NULL;
    check(flowdb_engine_snapshot(e2, &sn2, &e), FLOWDB_OK, &e, "snapshot");
    check(flowdb_engine_shutdown(e2, &e), FLOWDB_OK, &e, "shutdown");
    check(flowdb_engine_shutdown(e2, &e), FLOWDB_CLOSED, &e, "shutdown twice");
    check(flowdb_engine_sync(e2, &e), FLOWDB_CLOSED, &e, "sync after shutdown");
    check(flowdb_engine_close(e2, &e), FLOWDB_CLOSED, &e, "close (deprecated sync) after shutdown");
    check(flowdb_engine_write_batch(e2, &RV, 1, &e), FLOWDB_CLOSED, &e, "write after shutdown");
    check(flowdb_engine_write_points(e2, &PT, 1, &e), FLOWDB_CLOSED, &e, "write_points after shutdown");
    flowdb_buckets_t *bl2 = NULL;
    check(flowdb_engine_aggregate(e2, R, 1, FNS, 2, &bl2, &e), FLOWDB_CLOSED, &e, "aggregate after shutdown");
    check(flowdb_engine_aggregate_by(e2, R, 1, FNS, 2, &GROUP, &bl2, &e), FLOWDB_CLOSED, &e, "aggregate_by after shutdown");
    check(flowdb_snapshot_aggregate(sn2, R, 1, FNS, 2, &bl2, &e), FLOWDB_CLOSED, &e, "snapshot aggregate after its engine's shutdown");
    check(flowdb_snapshot_aggregate_by(sn2, R, 1, FNS, 2, &GROUP, &bl2, &e), FLOWDB_CLOSED, &e, "snapshot aggregate_by after its engine's shutdown");
    EXPECT(bl2 == NULL, "aggregate output after shutdown");
    flowdb_snapshot_free(sn2);
    check(flowdb_engine_delete_before(e2, 5, &e), FLOWDB_CLOSED, &e, "delete_before after shutdown");
    check(flowdb_engine_enforce_retention(e2, NULL, NULL, &e), FLOWDB_CLOSED, &e, "enforce_retention after shutdown");
    flowdb_records_t *rs = NULL;
    check(flowdb_engine_get(e2, (const uint8_t *)"1", 1, 0, &rs, &e), FLOWDB_CLOSED, &e, "get after shutdown");
    bool has = true;
    st = flowdb_iter_next(it, &has, &e); /* an iterator outliving its engine: ends or errs */
    EXPECT(st == FLOWDB_OK || st == FLOWDB_CLOSED, "iter after shutdown: %s", flowdb_status_str(st));
    flowdb_error_free(e); e = NULL;
    st = flowdb_iter_seek(it, (const uint8_t *)"1", 1, 0, &e); /* and seeks: never a crash */
    EXPECT(st == FLOWDB_OK || st == FLOWDB_CLOSED, "seek after shutdown: %s", flowdb_status_str(st));
    flowdb_error_free(e); e = NULL;
    st = flowdb_iter_next(it, &has, &e);
    EXPECT(st == FLOWDB_OK || st == FLOWDB_CLOSED, "iter after a seek after shutdown: %s", flowdb_status_str(st));
    flowdb_error_free(e); e = NULL;
    check(flowdb_iter_is_point(it, &has, &e), FLOWDB_OK, &e, "is_point after shutdown"); /* reads no engine */
    flowdb_series_t *sl2 = NULL;
    check(flowdb_engine_series(e2, NULL, 0, NULL, 0, UINT64_MAX, &sl2, &e), FLOWDB_CLOSED, &e, "series after shutdown");
    EXPECT(sl2 == NULL, "series output after shutdown");
    /* last_n_visit: a NULL callback, NULL key with a length, after shutdown: an error,
     * the callback never called and handed_out untouched. */
    size_t before = visits;
    uint64_t handed = 77;
    check(flowdb_engine_last_n_visit(E, (const uint8_t *)"1", 1, 5, NULL, &visits, &handed, &e), FLOWDB_INVALID_ARGUMENT, &e, "last_n_visit NULL callback");
    check(flowdb_engine_last_n_visit(E, NULL, 3, 5, count_visit, &visits, &handed, &e), FLOWDB_INVALID_ARGUMENT, &e, "last_n_visit NULL key with a length");
    check(flowdb_engine_last_n_visit(e2, (const uint8_t *)"1", 1, 5, count_visit, &visits, &handed, &e), FLOWDB_CLOSED, &e, "last_n_visit after shutdown");
    EXPECT(visits == before && handed == 77, "last_n_visit called back or wrote handed_out on failure");
    flowdb_record_view_t lv[2] = {RV, RV};
    lv[0].key = lv[1].key = (const uint8_t *)"lv";
    lv[0].key_len = lv[1].key_len = 2;
    lv[1].ts = 1;
    lv[1].value_len = 0; /* an empty value is lent too */
    check(flowdb_engine_write_batch(E, lv, 2, &e), FLOWDB_OK, &e, "write lv");
    check(flowdb_engine_last_n_visit(E, (const uint8_t *)"lv", 2, UINT64_MAX, count_visit, NULL, NULL, &e), FLOWDB_OK, &e, "last_n_visit n = UINT64_MAX, NULL user and handed_out");
    check(flowdb_engine_last_n_visit(E, (const uint8_t *)"lv", 2, UINT64_MAX, count_visit, &visits, &handed, &e), FLOWDB_OK, &e, "last_n_visit");
    EXPECT(handed == 2 && visits == before + 2, "last_n_visit of two records: %llu calls", (unsigned long long)handed);
    /* The operational calls after shutdown. */
    flowdb_error_t *bg = NULL;
    check(flowdb_engine_checkpoint(e2, "cp-closed", &e), FLOWDB_CLOSED, &e, "checkpoint after shutdown");
    check(flowdb_engine_backup_to(e2, "cp-closed", &e), FLOWDB_CLOSED, &e, "backup_to after shutdown");
    EXPECT(access("cp-closed", F_OK) != 0, "a checkpoint of a shut-down engine wrote something");
    check(flowdb_engine_catch_up(e2, &e), FLOWDB_CLOSED, &e, "catch_up after shutdown");
    check(flowdb_engine_resume(e2, &e), FLOWDB_CLOSED, &e, "resume after shutdown");
    check(flowdb_engine_background_error(e2, &bg, &e), FLOWDB_CLOSED, &e, "background_error after shutdown");
    EXPECT(bg == NULL, "background_error output after shutdown");
    check(flowdb_engine_set_event_listener(e2, count_event, NULL, &e), FLOWDB_CLOSED, &e, "set_event_listener after shutdown");
    check(flowdb_engine_set_event_listener(e2, NULL, NULL, &e), FLOWDB_CLOSED, &e, "removing a listener after shutdown");
    flowdb_iter_free(it);
    flowdb_engine_free(e2);
    flowdb_options_free(o2);
    /* Checkpoints into what exists (the working directory, a database) or to a path
     * not UTF-8, read-only opens of nothing and beside the writer, writes on a
     * read-only engine. */
    check(flowdb_engine_checkpoint(E, ".", &e), FLOWDB_INVALID_ARGUMENT, &e, "checkpoint into an existing directory");
    check(flowdb_engine_backup_to(E, "o0", &e), FLOWDB_INVALID_ARGUMENT, &e, "backup_to into a database");
    check(flowdb_jsondb_checkpoint(J, ".", &e), FLOWDB_INVALID_ARGUMENT, &e, "jsondb checkpoint into an existing directory");
    check(flowdb_engine_checkpoint(E, bad_utf8, &e), FLOWDB_INVALID_ARGUMENT, &e, "checkpoint path not UTF-8");
    flowdb_options_t *o4 = fresh_options();
    flowdb_engine_t *ro = NULL;
    check(flowdb_engine_open_read_only(o4, &ro, &e), FLOWDB_NOT_FOUND, &e, "read-only open of no database");
    EXPECT(ro == NULL, "read-only output on failure");
    flowdb_jsondb_t *jro = NULL;
    check(flowdb_jsondb_open_read_only(o4, &jro, &e), FLOWDB_NOT_FOUND, &e, "jsondb read-only open of no database");
    EXPECT(jro == NULL, "jsondb read-only output on failure");
    check(flowdb_options_set_data_dir(o4, "o0", &e), FLOWDB_OK, &e, "data dir o0");
    check(flowdb_engine_open_read_only(o4, &ro, &e), FLOWDB_OK, &e, "read-only open beside the writer");
    check(flowdb_engine_write_batch(ro, &RV, 1, &e), FLOWDB_READ_ONLY, &e, "write on a read-only engine");
    check(flowdb_engine_write(ro, NULL, false, &e), FLOWDB_INVALID_ARGUMENT, &e, "NULL batch on a read-only engine");
    check(flowdb_engine_catch_up(ro, &e), FLOWDB_OK, &e, "catch_up");
    check(flowdb_engine_shutdown(ro, &e), FLOWDB_OK, &e, "read-only shutdown");
    check(flowdb_engine_catch_up(ro, &e), FLOWDB_CLOSED, &e, "catch_up after shutdown");
    flowdb_engine_free(ro);
    flowdb_options_free(o4);

    flowdb_options_t *o3 = fresh_options();
    flowdb_jsondb_t *j2 = NULL;
    check(flowdb_jsondb_open(o3, &j2, &e), FLOWDB_OK, &e, "jsondb open");
    /* Subscriptions outliving their database (shut down, then freed): CLOSED, for good. */
    check(flowdb_jsondb_create_object_store(j2, "s", "id", &e), FLOWDB_OK, &e, "store for subscriptions");
    flowdb_subscription_t *subs[2] = {NULL, NULL};
    check(flowdb_jsondb_subscribe(j2, STORES, 1, NULL, &subs[0], &e), FLOWDB_OK, &e, "subscribe");
    check(flowdb_jsondb_subscribe_since(j2, 0, STORES, 1, KR, &subs[1], &e), FLOWDB_OK, &e, "subscribe_since");
    check(flowdb_jsondb_shutdown(j2, &e), FLOWDB_OK, &e, "jsondb shutdown");
    check(flowdb_jsondb_shutdown(j2, &e), FLOWDB_CLOSED, &e, "jsondb shutdown twice");
    check(flowdb_jsondb_sync(j2, &e), FLOWDB_CLOSED, &e, "jsondb sync after shutdown");
    check(flowdb_jsondb_close(j2, &e), FLOWDB_CLOSED, &e, "jsondb close (deprecated sync) after shutdown");
    check(flowdb_jsondb_create_object_store(j2, "x", "id", &e), FLOWDB_CLOSED, &e, "schema after shutdown");
    check(flowdb_jsondb_transaction(j2, STORES, 1, FLOWDB_READ_ONLY_TXN, &t, &e), FLOWDB_CLOSED, &e, "txn after shutdown");
    check(flowdb_jsondb_checkpoint(j2, "cp-closed", &e), FLOWDB_CLOSED, &e, "jsondb checkpoint after shutdown");
    check(flowdb_jsondb_backup_to(j2, "cp-closed", &e), FLOWDB_CLOSED, &e, "jsondb backup_to after shutdown");
    check(flowdb_jsondb_catch_up(j2, &e), FLOWDB_CLOSED, &e, "jsondb catch_up after shutdown");
    check(flowdb_jsondb_resume(j2, &e), FLOWDB_CLOSED, &e, "jsondb resume after shutdown");
    flowdb_error_t *jbg = NULL;
    check(flowdb_jsondb_background_error(j2, &jbg, &e), FLOWDB_CLOSED, &e, "jsondb background_error after shutdown");
    EXPECT(jbg == NULL, "jsondb background_error output after shutdown");
    check(flowdb_jsondb_set_event_listener(j2, count_event, NULL, &e), FLOWDB_CLOSED, &e, "jsondb set_event_listener after shutdown");
    uint64_t u64 = 7;
    check(flowdb_jsondb_version(j2, &u64, &e), FLOWDB_CLOSED, &e, "version after shutdown");
    check(flowdb_jsondb_last_change_seq(j2, &u64, &e), FLOWDB_CLOSED, &e, "last_change_seq after shutdown");
    EXPECT(u64 == 7, "output after shutdown");
    check(flowdb_jsondb_upgrade_to(j2, 1, declining_upgrade, NULL, &e), FLOWDB_CLOSED, &e, "upgrade_to after shutdown");
    check(flowdb_jsondb_put_with_key(j2, "s", "{}", 2, "1", 1, NULL, &e), FLOWDB_CLOSED, &e, "put_with_key after shutdown");
    check(flowdb_jsondb_changes_since(j2, 0, &out, &e), FLOWDB_CLOSED, &e, "changes_since after shutdown");
    check(flowdb_jsondb_set_change_retention_ms(j2, 1, &e), FLOWDB_CLOSED, &e, "set_change_retention_ms after shutdown");
    flowdb_subscription_t *sub = NULL;
    check(flowdb_jsondb_subscribe(j2, STORES, 1, NULL, &sub, &e), FLOWDB_CLOSED, &e, "subscribe after shutdown");
    EXPECT(sub == NULL, "subscription output after shutdown");
    flowdb_jsondb_free(j2);
    for (int i = 0; i < 2; i++) {
        flowdb_change_t ch;
        bool has = false;
        check(flowdb_subscription_next(subs[i], 0, &ch, &has, &e), FLOWDB_CLOSED, &e, "next after the database was freed");
        check(flowdb_subscription_next(subs[i], UINT64_MAX, &ch, &has, &e), FLOWDB_CLOSED, &e, "a waiting next after the database was freed");
        EXPECT(!has, "has_change written on failure");
        check(flowdb_subscription_start_seq(subs[i], &u64, &e), FLOWDB_OK, &e, "start_seq after the database was freed");
        flowdb_subscription_free(subs[i]);
    }
    flowdb_options_free(o3);
}

int main(void) {
    setup();
    null_arguments();
    bad_input_and_lifetimes();
    teardown();
    printf("%d calls with a NULL argument (%d where NULL is allowed), %d failures\n", calls, accepted, failures);
    return failures ? 1 : 0;
}
'''


def main():
    header = open(sys.argv[1]).read()
    body, upgrade_bodies = [], []
    for ret, name, params in functions(header):
        for i, (t, pname) in enumerate(params):
            if ("*" in t or t in CALLBACKS) and not is_err(t, pname):
                block = call(ret, name, params, i)
                if "struct flowdb_upgrade_t *" not in {t for t, _ in params}:
                    body.append(block)
                    continue
                # Called inside an upgrade's callback, which then aborts it.
                fn = "upgrade_call_%d" % len(upgrade_bodies)
                upgrade_bodies.append(
                    "static int %s(flowdb_upgrade_t *UP, uint64_t old_version, uint64_t new_version, void *user) {\n"
                    "    (void)UP; (void)old_version; (void)new_version; (void)user;\n"
                    "    upgrades_called++;\n%s\n    return 1;\n}\n" % (fn, block))
                body.append("    in_upgrade(%s, \"%s\");" % (fn, name))
    prelude, null_fn = PRELUDE.rsplit("static void null_arguments(void) {", 1)
    with open(sys.argv[2], "w") as f:
        f.write(prelude + "\n".join(upgrade_bodies) + "\nstatic void null_arguments(void) {" + null_fn
                + "\n".join(body) + HANDWRITTEN)


if __name__ == "__main__":
    main()
