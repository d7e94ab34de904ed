package flowdb

/*
#include <flowdb.h>
*/
import "C"

// Code is a flowdb status code (flowdb_status_t), stable across releases.
type Code int

// The Code* constants and the Err* sentinels (one per failure code) are in
// codes_gen.go, generated from the Rust crate's table of codes.

// String names a code, e.g. "NOT_FOUND".
func (c Code) String() string { return C.GoString(C.flowdb_status_str(C.int32_t(c))) }

// Error is a failed call: its Code and a message naming what was wrong. The message
// starts with the kind of failure ("locked: ...", "not found: ..."), so Error()
// reads "flowdb: <message>" and the code is not repeated.
//
// Compare kinds with errors.Is and the sentinels: errors.Is(err, flowdb.ErrNotFound)
// holds for every *Error whose Code is CodeNotFound, whatever its message (also
// through wrapping with %w). errors.As(err, &e) gives the *Error, its Code and Msg.
type Error struct {
	Code Code
	Msg  string
}

// Error is "flowdb: " and the message; for a sentinel (no message), "flowdb: " and
// the code's name, e.g. "flowdb: LOCKED".
func (e *Error) Error() string {
	if e.Msg == "" {
		return "flowdb: " + e.Code.String()
	}
	return "flowdb: " + e.Msg
}

// Is reports whether target is an *Error with the same Code: errors.Is(err,
// ErrLocked) and the like.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// newError is a failure found on the Go side. msg starts with the kind, as the C
// library's messages do ("closed: the engine was closed").
func newError(code Code, msg string) *Error { return &Error{Code: code, Msg: msg} }

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
