package flowdb

/*
#include <flowdb.h>
*/
import "C"

import "fmt"

// Code is a flowdb status code (flowdb_status_t), stable across releases.
type Code int

const (
	CodeOK                  Code = 0
	CodeInvalidArgument     Code = 1
	CodeNotFound            Code = 2
	CodeIO                  Code = 3
	CodeCorruption          Code = 4
	CodeLocked              Code = 5
	CodeClosed              Code = 6
	CodeConstraint          Code = 7
	CodeReadOnly            Code = 8
	CodeTransactionInactive Code = 9
	CodeData                Code = 10
	CodeInternal            Code = 11
	CodeBusy                Code = 12
)

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

// Sentinels for errors.Is.
var (
	ErrInvalidArgument     = &Error{Code: CodeInvalidArgument}
	ErrNotFound            = &Error{Code: CodeNotFound}
	ErrIO                  = &Error{Code: CodeIO}
	ErrCorruption          = &Error{Code: CodeCorruption}
	ErrLocked              = &Error{Code: CodeLocked}
	ErrClosed              = &Error{Code: CodeClosed}
	ErrConstraint          = &Error{Code: CodeConstraint}
	ErrReadOnly            = &Error{Code: CodeReadOnly}
	ErrTransactionInactive = &Error{Code: CodeTransactionInactive}
	ErrData                = &Error{Code: CodeData}
	ErrInternal            = &Error{Code: CodeInternal}
	ErrBusy                = &Error{Code: CodeBusy}
)

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
