package flowdb

// The OS threads transactions are begun on.
//
// The C library's transaction scheduler answers a begin that overlaps a started
// transaction begun on the same OS thread with ErrBusy at once, instead of waiting (a
// thread waiting on itself would deadlock). Goroutines move between OS threads, so a
// goroutine could begin on the thread where another goroutine began a transaction it
// still holds, and get that ErrBusy where it should wait. So a begin runs on an OS
// thread on which no open transaction was begun ("clean"): the calling goroutine's
// own thread, locked to it for the check and the C call, when that one is clean (the
// usual case, which costs one more cgo call); otherwise onCleanThread looks for one.
//
// One-call operations of a JSONDB (Put, Get, Count, ...; the library runs each as a
// transaction of its own) move to a clean thread the same way while any transaction
// begun here is open (JSONDB.handle).
//
// One consequence: a goroutine that holds a transaction and begins an overlapping one
// (or makes an overlapping one-call request) waits (the transaction timeout, or until
// its context is done), where a C or Rust thread would get ErrBusy at once.

/*
#include <pthread.h>
#include <stdint.h>
#include <flowdb.h>

static inline uintptr_t flowdb_go_thread_id(void) { return (uintptr_t)pthread_self(); }
*/
import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
)

var txnThreads struct {
	mu     sync.Mutex
	openOn map[uintptr]int // OS thread -> open transactions begun on it
	open   atomic.Int64    // open transactions begun, on any thread
}

// onThreadWithoutTxn runs f on the calling goroutine's thread while no transaction
// begun here is open (one atomic load), otherwise on a clean thread: for a one-call
// operation, which the library runs as a transaction of its own and would refuse at
// once with ErrBusy on a thread holding an overlapping transaction of another
// goroutine.
func onThreadWithoutTxn(f func()) {
	// Locked first: no transaction can then begin on this thread between the check
	// and the call (its goroutine would have to run here).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if txnThreads.open.Load() == 0 {
		f()
		return
	}
	onCleanThread(func(uintptr) { f() })
}

// beginResult is a begun transaction (nil t: none) and what to call when it is
// freed; or an error.
type beginResult struct {
	t       *C.flowdb_txn_t
	release func()
	err     error
}

// beginOnCleanThread runs begin on a clean OS thread. begin calls delivered (on that
// thread) just before it returns a transaction.
func beginOnCleanThread(begin func(delivered func()) (*C.flowdb_txn_t, error)) beginResult {
	var r beginResult
	onCleanThread(func(id uintptr) {
		t, err := begin(func() { threadOpened(id) })
		r = beginResult{t, func() { threadClosed(id) }, err}
	})
	return r
}

// onCleanThread runs f(thread) on a clean OS thread, locked to it while f runs (so no
// other goroutine can begin a transaction there meanwhile). When the current thread is
// not clean, it stays locked to this goroutine while a new goroutine looks further:
// that one cannot run on this thread, nor on any thread an earlier level holds, so
// each level tries another thread, and the runtime starts new ones (clean) when every
// thread it has is held. Transactions are open on finitely many threads, so the search
// ends.
func onCleanThread(f func(thread uintptr)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	id := uintptr(C.flowdb_go_thread_id())
	txnThreads.mu.Lock()
	clean := txnThreads.openOn[id] == 0
	txnThreads.mu.Unlock()
	if clean {
		f(id)
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		onCleanThread(f)
	}()
	<-done
}

func threadOpened(id uintptr) {
	txnThreads.mu.Lock()
	if txnThreads.openOn == nil {
		txnThreads.openOn = map[uintptr]int{}
	}
	txnThreads.openOn[id]++
	txnThreads.open.Add(1)
	txnThreads.mu.Unlock()
}

func threadClosed(id uintptr) {
	txnThreads.mu.Lock()
	if txnThreads.openOn[id]--; txnThreads.openOn[id] <= 0 {
		delete(txnThreads.openOn, id)
	}
	txnThreads.open.Add(-1)
	txnThreads.mu.Unlock()
}
