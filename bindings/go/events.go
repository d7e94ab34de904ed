package flowdb

// Event listeners: a func(Event) that receives an engine's flushes, merges, write
// stalls, background errors and resumes.
//
// The func is kept in a runtime/cgo.Handle whose number is the C listener's user
// data; the library calls flowdb_go_event (below) on its event thread, which calls the
// exported flowdbGoEvent (events_export.go) with that number. The C set and remove
// calls (and shutdown and free) return only after the old listener's last call, so a
// handle is deleted once the call that replaced or removed it has returned, or once
// the C handle is freed.

/*
#include <stdint.h>
#include <flowdb.h>

void flowdbGoEvent(flowdb_event_t *event, uintptr_t listener);

static void flowdb_go_event(const flowdb_event_t *event, void *user) {
	flowdbGoEvent((flowdb_event_t *)event, (uintptr_t)user);
}

// Sets the listener numbered `listener` (0: removes it).
static enum flowdb_status_t flowdb_go_engine_listen(const flowdb_engine_t *e, uintptr_t listener, flowdb_error_t **err) {
	return flowdb_engine_set_event_listener(e, listener ? flowdb_go_event : NULL, (void *)listener, err);
}
static enum flowdb_status_t flowdb_go_jsondb_listen(const flowdb_jsondb_t *db, uintptr_t listener, flowdb_error_t **err) {
	return flowdb_jsondb_set_event_listener(db, listener ? flowdb_go_event : NULL, (void *)listener, err);
}
*/
import "C"

import (
	"runtime/cgo"
	"strconv"
	"sync"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventFlush: a memtable became TablesOut tables of Bytes bytes.
	EventFlush EventKind = C.FLOWDB_EVENT_FLUSH
	// EventCompaction: a merge replaced TablesIn tables by TablesOut of Bytes bytes.
	EventCompaction EventKind = C.FLOWDB_EVENT_COMPACTION
	// EventStall: a writer waited Duration for a flush.
	EventStall EventKind = C.FLOWDB_EVENT_STALL
	// EventError: background work failed (Message); StopsWrites: it became the
	// background error (writes fail until Resume).
	EventError EventKind = C.FLOWDB_EVENT_ERROR
	// EventResumed: Resume cleared the background error.
	EventResumed EventKind = C.FLOWDB_EVENT_RESUMED
)

// String is the kind as one word: "flush", "compaction", "stall", "error",
// "resumed" (the Rust Event::kind names), or "EventKind(N)".
func (k EventKind) String() string {
	switch k {
	case EventFlush:
		return "flush"
	case EventCompaction:
		return "compaction"
	case EventStall:
		return "stall"
	case EventError:
		return "error"
	case EventResumed:
		return "resumed"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is something that happened in an engine; fields its Kind does not use are
// zero.
type Event struct {
	Kind        EventKind
	Duration    time.Duration
	TablesIn    int
	TablesOut   int
	Bytes       int64
	StopsWrites bool   // EventError: it became the background error
	Message     string // EventError: what failed
}

func eventFromC(e *C.flowdb_event_t) Event {
	ev := Event{
		Kind:        EventKind(e.kind),
		Duration:    time.Duration(e.duration_us) * time.Microsecond,
		TablesIn:    int(e.tables_in),
		TablesOut:   int(e.tables_out),
		Bytes:       int64(e.bytes),
		StopsWrites: bool(e.stops_writes),
	}
	if e.message != nil {
		ev.Message = C.GoString(e.message)
	}
	return ev
}

// deliver calls the listener numbered h. A panic in it is recovered and dropped
// (that event is lost; later ones still come), as a Rust listener that panics loses
// only that event: a panic must not unwind into the C library's thread.
func deliver(e Event, h cgo.Handle) {
	defer func() { _ = recover() }()
	h.Value().(func(Event))(e)
}

// listener is the event listener of an Engine or JSONDB: the handle of its func (0:
// none). mu serializes SetEventListener and Close, and is taken before the
// Engine's or JSONDB's own lock: removing a listener waits for its last call, which
// may be using the Engine (holding that lock for reading) meanwhile.
type listener struct {
	mu sync.Mutex
	h  cgo.Handle
}

// set installs f (nil: none) with install, the C set call given the new handle's
// number (0: none); l.mu is held. When install fails the old handle is kept (the
// C listener may still be it).
func (l *listener) set(f func(Event), install func(listener C.uintptr_t) error) error {
	var next cgo.Handle
	if f != nil {
		next = cgo.NewHandle(f)
	}
	if err := install(C.uintptr_t(next)); err != nil {
		if next != 0 {
			next.Delete()
		}
		return err
	}
	l.drop() // the C call returned after the old listener's last call
	l.h = next
	return nil
}

// drop deletes the handle, once no call of it can come (l.mu is held, or the owner
// is unreachable).
func (l *listener) drop() {
	if l.h != 0 {
		l.h.Delete()
		l.h = 0
	}
}

// SetEventListener sets the func that receives the engine's events (nil removes
// it), called in order on a thread of the library's. It returns once the listener it
// replaces has had its last call, and Close removes the listener (waiting for its
// last call) before it frees the engine. f may call the Engine's other methods, but
// not SetEventListener or Close, which would wait for f to return. A panic in f is
// recovered and that event dropped. An Engine whose listener refers to it is never
// unreachable: Close it (the garbage collector's net for unclosed engines does not
// reach it).
func (e *Engine) SetEventListener(f func(Event)) error {
	e.events.mu.Lock()
	defer e.events.mu.Unlock()
	return e.events.set(f, e.listen)
}

// listen sets the C listener numbered l (0: none).
func (e *Engine) listen(l C.uintptr_t) error {
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_go_engine_listen(h, l, &cerr), cerr)
	})
}

// SetEventListener sets the func that receives the events of the database's
// engine (nil removes it), as Engine.SetEventListener.
func (db *JSONDB) SetEventListener(f func(Event)) error {
	db.events.mu.Lock()
	defer db.events.mu.Unlock()
	return db.events.set(f, db.listen)
}

func (db *JSONDB) listen(l C.uintptr_t) error {
	return db.handle(func(h *C.flowdb_jsondb_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_go_jsondb_listen(h, l, &cerr), cerr)
	})
}
