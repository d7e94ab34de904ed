package flowdb

// Operations: checkpoints and backups of a live database, read-only instances of a
// directory another process writes, and the background error that stops writes
// (docs/design.md: "Checkpoints and backups", "Read-only instances", "Background
// errors"). Event listeners are in events.go.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import "context"

// withDir passes dir, the argument of that name, to C (ErrInvalidArgument when it
// holds a NUL byte, as withStr).
func withDir(dir string, f func(d *C.char) error) error {
	return withStr([]string{"dir"}, []string{dir}, func(d []*C.char) error { return f(d[0]) })
}

// Checkpoint writes a consistent copy of the database as of one moment into dir, a
// directory that must not exist (ErrInvalidArgument otherwise), while writers go on:
// tables and log segments are hard-linked where the file system allows, copied
// otherwise. The copy opens as a normal database; a crash leaves no dir or a
// complete one. Of a read-only engine: a copy of what the writer has on disk.
func (e *Engine) Checkpoint(dir string) error {
	return withDir(dir, func(d *C.char) error {
		return e.handle(func(h *C.flowdb_engine_t) error {
			var cerr *C.flowdb_error_t
			return check(C.flowdb_engine_checkpoint(h, d, &cerr), cerr)
		})
	})
}

// BackupTo is Checkpoint copying every file (no hard links): a backup for another
// disk.
func (e *Engine) BackupTo(dir string) error {
	return withDir(dir, func(d *C.char) error {
		return e.handle(func(h *C.flowdb_engine_t) error {
			var cerr *C.flowdb_error_t
			return check(C.flowdb_engine_backup_to(h, d, &cerr), cerr)
		})
	})
}

// OpenReadOnly opens the database in dir read-only: no lock taken and nothing
// written, so another process (or another Engine) may be writing it. It sees the
// database as of the open; CatchUp moves it on. Writes, flushes and compactions fail
// with ErrReadOnly. ErrNotFound when no database is there; ErrBusy when the writer
// kept changing its files while they were read (try again). Close it when done.
func OpenReadOnly(dir string, opts *Options) (*Engine, error) {
	var h *C.flowdb_engine_t
	err := openWith(dir, opts, func(o *C.flowdb_options_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_open_read_only(o, &h, c)
	})
	if err != nil {
		return nil, err
	}
	return newEngine(h), nil
}

// CatchUp moves an engine from OpenReadOnly to the writer's present: new reads see
// what the writer wrote since. On a writing engine it does nothing.
func (e *Engine) CatchUp() error {
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_catch_up(h, &cerr), cerr)
	})
}

// takeBackgroundError runs a background_error call: nil when none stands, the
// standing error (an *Error of its kind) otherwise, or the call's own error.
func takeBackgroundError(f func(out, cerr **C.flowdb_error_t) uint32) error {
	var out, cerr *C.flowdb_error_t
	if err := check(f(&out, &cerr), cerr); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	defer C.flowdb_error_free(out)
	return &Error{Code: Code(C.flowdb_error_code(out)), Msg: C.GoString(C.flowdb_error_message(out))}
}

// BackgroundError is the error that stops writes, nil while there is none. Background
// work (a flush, a merge, the interval log sync) that fails sets it; writes then fail
// with an error of its kind (errors.Is tells it: ErrIO for a full disk) until Resume
// succeeds, and reads go on. After Close: ErrClosed.
func (e *Engine) BackgroundError() error {
	var found error
	err := e.handle(func(h *C.flowdb_engine_t) error {
		found = takeBackgroundError(func(out, cerr **C.flowdb_error_t) uint32 {
			return C.flowdb_engine_background_error(h, out, cerr)
		})
		return nil
	})
	if err != nil {
		return err
	}
	return found
}

// Resume retries, once the cause of the background error is fixed (disk space
// freed), the log sync and the flushes, and clears the error; when they fail it
// returns the new error, which stands. nil at once when no background error stands.
// ctx: see TriggerCompaction.
func (e *Engine) Resume(ctx context.Context) error {
	return e.handle(ctxCheck(ctx, func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_resume(h, &cerr), cerr)
	}))
}

// Checkpoint is Engine.Checkpoint for the database: documents, indexes and schema as
// of one moment (committed transactions whole or not at all).
func (db *JSONDB) Checkpoint(dir string) error {
	return withDir(dir, func(d *C.char) error {
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_checkpoint(h, d, c)
		})
	})
}

// BackupTo is Engine.BackupTo for the database.
func (db *JSONDB) BackupTo(dir string) error {
	return withDir(dir, func(d *C.char) error {
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_backup_to(h, d, c)
		})
	})
}

// OpenJSONDBReadOnly is OpenReadOnly for a document database: documents, indexes
// and schema as of the open (CatchUp moves them on); writes fail with ErrReadOnly.
func OpenJSONDBReadOnly(dir string, opts *Options) (*JSONDB, error) {
	var h *C.flowdb_jsondb_t
	err := openWith(dir, opts, func(o *C.flowdb_options_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_open_read_only(o, &h, c)
	})
	if err != nil {
		return nil, err
	}
	return newJSONDB(h), nil
}

// CatchUp is Engine.CatchUp for a database from OpenJSONDBReadOnly (its schema too).
func (db *JSONDB) CatchUp() error {
	return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_catch_up(h, c)
	})
}

// BackgroundError is Engine.BackgroundError of the database's engine.
func (db *JSONDB) BackgroundError() error {
	var found error
	err := db.handle(func(h *C.flowdb_jsondb_t) error {
		found = takeBackgroundError(func(out, cerr **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_background_error(h, out, cerr)
		})
		return nil
	})
	if err != nil {
		return err
	}
	return found
}

// Resume is Engine.Resume for the database's engine. ctx: see
// Engine.TriggerCompaction.
func (db *JSONDB) Resume(ctx context.Context) error {
	return db.handle(ctxCheck(ctx, func(h *C.flowdb_jsondb_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_jsondb_resume(h, &cerr), cerr)
	}))
}
