package flowdb

// The Go function the C listener calls (events.go): in a file of its own, since a file
// with //export may declare but not define C functions in its preamble.

/*
#include <stdint.h>
#include <flowdb.h>
*/
import "C"

import "runtime/cgo"

// flowdbGoEvent receives one event on the library's event thread for the listener
// numbered listener (a cgo.Handle, live until the C call that removes it returns).
//
//export flowdbGoEvent
func flowdbGoEvent(event *C.flowdb_event_t, listener C.uintptr_t) {
	deliver(eventFromC(event), cgo.Handle(listener))
}
