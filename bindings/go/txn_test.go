package flowdb

// A transaction begin that waits for an overlapping transaction gives up when its
// context is done, and the transaction its C call gets later is freed: no handle
// leaks, the database still closes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// openWaitDB is a database with a store "s" whose transactions wait up to a minute.
func openWaitDB(t *testing.T) *JSONDB {
	t.Helper()
	db, err := OpenJSONDB(t.TempDir(), &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateObjectStore("s", "id"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTransactionTimeout(time.Minute); err != nil {
		t.Fatal(err)
	}
	return db
}

// beginAsync begins a read-write transaction over "s" on a goroutine; the result
// arrives on the channel (a transaction it got is closed there).
func beginAsync(ctx context.Context, db *JSONDB) <-chan error {
	errc := make(chan error, 1)
	go func() {
		tx, err := db.Transaction(ctx, []string{"s"}, true)
		if tx != nil {
			tx.Close()
		}
		errc <- err
	}()
	return errc
}

func TestTransactionBeginCancelled(t *testing.T) {
	db := openWaitDB(t)
	base := LiveHandles()
	first, err := db.Transaction(t.Context(), []string{"s"}, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := beginAsync(ctx, db)
	select {
	case err := <-errc:
		t.Fatalf("the second transaction did not wait for the first: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled begin: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled begin did not return")
	}
	// The first transaction still works.
	if _, err := first.Put("s", json.RawMessage(`{"id":1,"by":"first"}`)); err != nil {
		t.Fatal(err)
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// The abandoned C call now gets its transaction and frees it: nothing leaks, and
	// Close finds no open transaction (it would be ErrBusy).
	waitHandles(t, base)
	if doc, err := db.Get("s", json.RawMessage(`1`)); err != nil || doc == nil {
		t.Fatalf("the first transaction's write: %s %v", doc, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close after a cancelled begin: %v", err)
	}
	if LiveHandles() != base-1 {
		t.Fatalf("live handles %d, want %d", LiveHandles(), base-1)
	}
}

func TestTransactionBeginDeadlineAndDoneContext(t *testing.T) {
	db := openWaitDB(t)
	base := LiveHandles()
	first, err := db.Transaction(t.Context(), []string{"s"}, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := db.Transaction(ctx, []string{"s"}, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("begin past its deadline: %v", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("waited %v", waited)
	}
	// A context already done: no wait, no transaction.
	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	if tx, err := db.Transaction(done, []string{"s"}, true); tx != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("begin with a done context: %v %v", tx, err)
	}
	if err := first.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	waitHandles(t, base)
}

// Cancelling just as the overlapping transaction ends: the begin either returns a
// transaction or ctx.Err(), and in both cases nothing leaks.
func TestTransactionBeginCancelRace(t *testing.T) {
	db := openWaitDB(t)
	base := LiveHandles()
	got, cancelled := 0, 0
	for range 40 {
		first, err := db.Transaction(t.Context(), []string{"s"}, true)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		errc := beginAsync(ctx, db)
		time.Sleep(time.Millisecond)
		go cancel()
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		switch err := <-errc; {
		case err == nil:
			got++
		case errors.Is(err, context.Canceled):
			cancelled++
		default:
			t.Fatalf("begin: %v", err)
		}
		cancel()
		waitHandles(t, base)
	}
	t.Logf("%d begins got their transaction, %d were cancelled", got, cancelled)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// makeStores creates stores s0..s{n-1} of key path "id".
func makeStores(t *testing.T, db *JSONDB, n int) []string {
	stores := make([]string, n)
	for i := range stores {
		stores[i] = fmt.Sprintf("s%d", i)
		if err := db.CreateObjectStore(stores[i], "id"); err != nil {
			t.Fatal(err)
		}
	}
	return stores
}

// holdStores begins a read-write transaction on each store (on this goroutine's
// threads), for other goroutines to wait on.
func holdStores(t *testing.T, db *JSONDB, stores []string) []*Txn {
	var holders []*Txn
	for _, s := range stores {
		tx, err := db.Transaction(context.Background(), []string{s}, true)
		if err != nil {
			t.Fatalf("holder of %s: %v", s, err)
		}
		holders = append(holders, tx)
	}
	return holders
}

// releaseHolders checks that no waiter (one result in errc each) finished while the
// holders held their stores, then writes {"id":1} in each and commits it, and then
// fails on any waiter's error.
func releaseHolders(t *testing.T, waiters string, stores []string, holders []*Txn, errc chan error) {
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-errc:
		t.Fatalf("%s did not wait for the holder: %v", waiters, err)
	default:
	}
	for i, tx := range holders {
		if _, err := tx.Put(stores[i], json.RawMessage(`{"id":1}`)); err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(tx.Commit(), tx.Close()); err != nil {
			t.Fatal(err)
		}
	}
	for range stores {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// Goroutines are not threads: with one P, the goroutines below run on few OS threads,
// so begins meet threads where another goroutine holds a transaction. Each begin must
// still wait for its overlapping transaction (the C scheduler's "this thread holds an
// overlapping transaction" ErrBusy must never reach a goroutine that does not).
func TestBeginWaitsWhicheverThreadItRunsOn(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	db := openWaitDB(t)
	stores := makeStores(t, db, 8)
	base := LiveHandles()
	holders := holdStores(t, db, stores)
	errc := make(chan error, 2*len(stores))
	for i, s := range stores {
		ctx := context.Background()
		if i%2 == 1 {
			ctx = t.Context()
		}
		go func() {
			tx, err := db.Transaction(ctx, []string{s}, true)
			if err == nil {
				_, err = tx.Put(s, json.RawMessage(`{"id":2}`))
				err = errors.Join(err, tx.Commit(), tx.Close())
			}
			errc <- err
		}()
	}
	releaseHolders(t, "a begin", stores, holders, errc)
	for _, s := range stores {
		if c, err := db.Count(s); err != nil || c != 2 {
			t.Fatalf("%s: %d documents, %v", s, c, err)
		}
	}
	waitHandles(t, base)
}

// The same for one-call operations (Put, Get, Count, ...: each a transaction of its
// own in the library): one running on an OS thread where another goroutine began a
// transaction it still holds waits for it, where it used to get ErrBusy at once.
func TestOneCallOperationsWaitWhicheverThreadTheyRunOn(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	db := openWaitDB(t)
	stores := makeStores(t, db, 8)
	holders := holdStores(t, db, stores)
	errc := make(chan error, len(stores))
	for _, s := range stores {
		go func() {
			_, err := db.Put(s, json.RawMessage(`{"id":2}`))
			if err == nil {
				var c int
				c, err = db.Count(s)
				if err == nil && c != 2 {
					err = fmt.Errorf("%s: %d documents after the holder", s, c)
				}
			}
			errc <- err
		}()
	}
	releaseHolders(t, "a one-call operation", stores, holders, errc)
}
