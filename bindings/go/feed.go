package flowdb

// The change feed: Subscribe and SubscribeSince (a Subscription delivering committed
// changes on a channel, from a goroutine polling the C subscription), ChangesSince
// (the change log), LastChangeSeq and SetChangeRetention.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// ChangeKind says what a Change did to its key.
type ChangeKind int

const (
	// ChangePut: the document under the key was stored (created or replaced).
	ChangePut ChangeKind = C.FLOWDB_CHANGE_PUT
	// ChangeDelete: the document under the key was deleted.
	ChangeDelete ChangeKind = C.FLOWDB_CHANGE_DELETE
	// ChangeClear: every document of the store was deleted; the key is null.
	ChangeClear ChangeKind = C.FLOWDB_CHANGE_CLEAR
)

var changeKinds = []string{"put", "delete", "clear"}

// String is "put", "delete" or "clear" (as in ChangesSince's JSON), or
// "ChangeKind(N)".
func (k ChangeKind) String() string {
	if k >= 0 && int(k) < len(changeKinds) {
		return changeKinds[k]
	}
	return "ChangeKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes the kind's name, so that a Change marshals as the C library's
// JSON does.
func (k ChangeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads "put", "delete" or "clear".
func (k *ChangeKind) UnmarshalText(b []byte) error {
	for i, name := range changeKinds {
		if string(b) == name {
			*k = ChangeKind(i)
			return nil
		}
	}
	return newError(CodeData, "data error: "+strconv.Quote(string(b))+" is not a change kind")
}

// Change is one committed change: the commit's sequence number (shared by the
// changes of one transaction), the store, the primary key as JSON (null for a clear)
// and the kind. Values are not in it: read them if needed.
type Change struct {
	Seq   uint64          `json:"seq"`
	Store string          `json:"store"`
	Key   json.RawMessage `json:"key"`
	Kind  ChangeKind      `json:"kind"`
}

// subscriptionPoll is how long the polling goroutine waits in one C call: how long
// Close may wait for it. A change that commits meanwhile comes at once.
const subscriptionPoll = 100 * time.Millisecond

// Subscription delivers the committed changes of some stores on C, in commit order,
// from a goroutine of its own. C is closed when the subscription ends: after Close,
// or once the database was closed and every change it committed was delivered (Err
// tells which). Undelivered changes wait in the subscription, however many. It does
// not keep the database open. Close it when done (one dropped unclosed is stopped by
// the garbage collector). Keep the *Subscription reachable while C is read (a
// `defer sub.Close()` does): holding C alone does not, and once the Subscription is
// collected C closes as if it had been closed.
type Subscription struct {
	C       <-chan Change
	feed    *feed
	cleanup runtime.Cleanup
}

// feed is what the polling goroutine uses (not the Subscription, which the garbage
// collector can then find unreachable).
type feed struct {
	s     *C.flowdb_subscription_t // freed by the goroutine as it ends
	start uint64
	stop  chan struct{}
	once  sync.Once
	done  chan struct{} // closed when the goroutine has ended, before C
	err   error         // why it ended; written before done is closed
}

func newSubscription(s *C.flowdb_subscription_t) *Subscription {
	liveHandles.Add(1)
	var start C.uint64_t
	C.flowdb_subscription_start_seq(s, &start, nil)
	ch := make(chan Change)
	f := &feed{s: s, start: uint64(start), stop: make(chan struct{}), done: make(chan struct{})}
	go f.run(ch)
	sub := &Subscription{C: ch, feed: f}
	sub.cleanup = runtime.AddCleanup(sub, (*feed).halt, f)
	return sub
}

// run polls the C subscription and hands each change to ch, until halted or the
// subscription ends; then frees the C handle and closes done, then ch.
func (f *feed) run(ch chan<- Change) {
	defer close(ch)
	defer close(f.done)
	defer func() {
		C.flowdb_subscription_free(f.s)
		liveHandles.Add(-1)
	}()
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		c, ok, err := f.next()
		if err != nil {
			f.err = err
			return
		}
		if !ok {
			continue
		}
		select {
		case ch <- c:
		case <-f.stop:
			return
		}
	}
}

// next is the next change, waiting at most subscriptionPoll (false: none came).
func (f *feed) next() (Change, bool, error) {
	var c C.flowdb_change_t
	var has C.bool
	var cerr *C.flowdb_error_t
	ms := C.uint64_t(subscriptionPoll / time.Millisecond)
	if err := check(C.flowdb_subscription_next(f.s, ms, &c, &has, &cerr), cerr); err != nil || !bool(has) {
		return Change{}, false, err
	}
	return Change{
		Seq:   uint64(c.seq),
		Store: C.GoStringN(c.store, C.int(c.store_len)),
		Key:   json.RawMessage(C.GoStringN(c.key, C.int(c.key_len))),
		Kind:  ChangeKind(c.kind),
	}, true, nil
}

// halt asks the goroutine to end (it frees the C handle).
func (f *feed) halt() { f.once.Do(func() { close(f.stop) }) }

// Close stops the subscription (unsubscribing it) and closes C, waiting for the
// polling goroutine to end (at most about 100 ms). Idempotent; the error is always
// nil, there to make a Subscription an io.Closer.
func (s *Subscription) Close() error {
	s.cleanup.Stop()
	s.feed.halt()
	<-s.feed.done
	return nil
}

// Err is why C was closed: nil while it is open and after Close, ErrClosed once the
// database was closed (every change it committed having been delivered), or the
// error that stopped the polling.
func (s *Subscription) Err() error {
	select {
	case <-s.feed.done:
		return s.feed.err
	default:
		return nil
	}
}

// StartSeq is the last sequence number committed when the subscription began: it
// delivers the changes of later commits (and, from SubscribeSince, the logged ones
// after since first).
func (s *Subscription) StartSeq() uint64 { return s.feed.start }

// Subscribe delivers the changes of stores (at least one; an unknown one is
// ErrNotFound) to documents whose primary key is in r (IndexRange{}: every key;
// clears always come), as they commit, from the next commit on.
func (db *JSONDB) Subscribe(stores []string, r IndexRange) (*Subscription, error) {
	return db.subscribe(stores, r, func(h *C.flowdb_jsondb_t, ss **C.char, n C.size_t, kr *C.flowdb_key_range_t, o **C.flowdb_subscription_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_subscribe(h, ss, n, kr, o, c)
	})
}

// SubscribeSince is Subscribe delivering first the logged changes after sequence
// number since (from an earlier Change, or LastChangeSeq), then the live ones, none
// missed or repeated between the two. ErrNotFound when changes after since have
// expired from the log.
func (db *JSONDB) SubscribeSince(since uint64, stores []string, r IndexRange) (*Subscription, error) {
	return db.subscribe(stores, r, func(h *C.flowdb_jsondb_t, ss **C.char, n C.size_t, kr *C.flowdb_key_range_t, o **C.flowdb_subscription_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_subscribe_since(h, C.uint64_t(since), ss, n, kr, o, c)
	})
}

func (db *JSONDB) subscribe(stores []string, r IndexRange,
	f func(h *C.flowdb_jsondb_t, ss **C.char, n C.size_t, kr *C.flowdb_key_range_t, o **C.flowdb_subscription_t, c **C.flowdb_error_t) uint32) (*Subscription, error) {
	kr, err := r.c()
	if err != nil {
		return nil, err
	}
	defer C.flowdb_key_range_free(kr)
	var s *C.flowdb_subscription_t
	err = withCArray("stores", stores, func(ss **C.char, n C.size_t) error {
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 { return f(h, ss, n, kr, &s, c) })
	})
	if err != nil {
		return nil, err
	}
	return newSubscription(s), nil
}

// ChangesSince returns every committed change after sequence number since, in commit
// order, from the change log (to resume after a restart from a kept sequence
// number). ErrNotFound when changes after since have expired from the log (it keeps
// them for the change retention), never a silent gap.
func (db *JSONDB) ChangesSince(since uint64) ([]Change, error) {
	j, err := db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_changes_since(h, C.uint64_t(since), o, c)
	})
	if err != nil {
		return nil, err
	}
	var out []Change
	return out, json.Unmarshal(j, &out)
}

// LastChangeSeq is the sequence number of the last commit that changed documents (0:
// none yet).
func (db *JSONDB) LastChangeSeq() (uint64, error) {
	var seq C.uint64_t
	err := db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_last_change_seq(h, &seq, c)
	})
	return uint64(seq), err
}

// SetChangeRetention sets how long the change log keeps a commit's changes, from now
// on (24 hours by default): ChangesSince and SubscribeSince can resume from within
// that span. Below a millisecond is a millisecond.
func (db *JSONDB) SetChangeRetention(d time.Duration) error {
	ms := max(d.Milliseconds(), 1)
	return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_set_change_retention_ms(h, C.uint64_t(ms), c)
	})
}
