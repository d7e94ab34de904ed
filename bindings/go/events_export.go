package flowdb

// The Go functions the C library calls back, the event listener (events.go) and the
// upgrade callback (upgrade.go): in a file of their own, since a file with //export
// may declare but not define C functions in its preamble.

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

// flowdbGoUpgrade runs the upgrade func of the call numbered call (a cgo.Handle, live
// until the C call that runs the upgrade returns), on that call's thread; 0 commits.
//
//export flowdbGoUpgrade
func flowdbGoUpgrade(up *C.flowdb_upgrade_t, oldVersion, newVersion C.uint64_t, call C.uintptr_t) C.int {
	return cgo.Handle(call).Value().(*upgradeCall).run(up, uint64(oldVersion), uint64(newVersion))
}
