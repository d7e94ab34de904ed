// flowdb.hpp: a header-only C++17 wrapper over flowdb.h.
//
// Move-only RAII classes own the C handles (Options, Engine, Scan, RecordList, JsonDB,
// Transaction, Cursor, Query, KeyRange). JSON documents and keys are JSON text (std::string).
// Names (stores, indexes, fields, paths) go to C as NUL-terminated strings: one holding
// a NUL byte throws FLOWDB_INVALID_ARGUMENT. Builders (Options, WriteBatch, Query,
// Range) chain on named objects and on temporaries (returned by value).
// Failures throw flowdb::Error, which carries the flowdb_status_t. The non-throwing
// form: flowdb::attempt([&] { ... }) runs any calls and returns a flowdb::Status
// (Engine::try_open and Engine::try_write_batch are direct forms of the common ones).
// Keys and values are byte strings passed as std::string_view. Lookups return
// std::optional. A Scan is iterated with range-for (newest first when its Range is
// reverse()); the RecordView it yields borrows from the scan and is valid until the
// scan reads the next record (or seeks); iterators step lazily (a loop stopped after n
// steps, as std::views::take(n), leaves the rest to the next loop). Scans and record lists are ranges for the standard library
// and C++20's std::ranges (their iterators model std::input_iterator; a RecordList's
// std::forward_iterator). A JsonDB Cursor (from a Transaction, or JsonDB::open_cursor)
// is iterated with range-for too, yielding owned CursorEntry values, and moved with
// continue_to()/advance(). Reads are const: a `const Engine &` or `const JsonDB &` can
// read but not write. Thread safety is the C API's: an Engine may be shared by
// threads; a Scan is used by one thread at a time. Schema versions:
// JsonDB::open_with_version() and upgrade_to() call a function (a lambda) with an
// Upgrade, the upgrade's Transaction with the schema changes; an exception it throws
// aborts the upgrade and reaches the caller. The change feed: JsonDB::subscribe()
// gives a Subscription whose next(timeout) returns the next committed Change.
// Numeric series (docs/numeric.md): Engine::write_points() writes Points (key, ts,
// double), Record::as_f64() reads one back, Scan::is_point() tells a point from bytes,
// and aggregate()/aggregate_by() (on Engine and Snapshot) return Buckets of Agg results
// per series or per GroupBy group.
//
// Lifecycle: sync() flushes and syncs (the handle stays open; Rust's close()),
// shutdown() syncs, stops background work and releases the directory lock, and the
// destructor frees the handle (docs/c-api-names.md has the names in every language).
// Operations: checkpoint() and backup_to() copy a live database, open_read_only() and
// catch_up() follow a directory another process writes, background_error() and
// resume() report and clear a failed background flush, and set_event_listener() hands
// a std::function every flush, merge, stall and background error (the Engine or JsonDB
// owns the function; it is called on a thread of the library's).
// The wrapper is C++17; it uses nothing newer unless compiled as C++20.
//
// The wrapper is split into parts under flowdb/ (one concept each: flowdb/engine.hpp,
// flowdb/jsondb.hpp, ...); this header includes them all.
#ifndef FLOWDB_HPP
#define FLOWDB_HPP

#include "flowdb/common.hpp"
#include "flowdb/options.hpp"
#include "flowdb/scan.hpp"
#include "flowdb/points.hpp"
#include "flowdb/batch.hpp"
#include "flowdb/events.hpp"
#include "flowdb/engine.hpp"
#include "flowdb/keys.hpp"
#include "flowdb/cursor.hpp"
#include "flowdb/requests.hpp"
#include "flowdb/transaction.hpp"
#include "flowdb/changes.hpp"
#include "flowdb/jsondb.hpp"

#endif  // FLOWDB_HPP
