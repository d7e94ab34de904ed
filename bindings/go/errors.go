package flowdb

/*
#include <flowdb.h>
*/
import "C"

import "fmt"

// Code is a flowdb status code (flowdb_status_t), stable across releases.
type Code int

// The Code* constants and Err* sentinels are in codes_gen.go (generated from the
// Rust crate's table of codes).

// String names a code, e.g. "NOT_FOUND".
func (c Code) String() string { return C.GoString(C.flowdb_status_str(C.int32_t(c))) }

// Error is a failed call: its code and a message naming what was wrong.
// Compare kinds with errors.Is(err, flowdb.ErrNotFound) and the like.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("flowdb: %s: %s", e.Code, e.Msg) }

// Is reports whether target is an *Error of the same Code (a sentinel).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// check turns a status and its optional error object into a Go error (freeing the
// error object).
func check(status uint32, cerr *C.flowdb_error_t) error {
	if status == C.FLOWDB_OK {
		return nil
	}
	msg := C.GoString(C.flowdb_error_message(cerr))
	C.flowdb_error_free(cerr)
	return &Error{Code: Code(status), Msg: msg}
}
