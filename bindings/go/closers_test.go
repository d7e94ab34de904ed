package flowdb

// Every handle is an io.Closer whose Close is idempotent; errors read "flowdb:
// <message>" and match their sentinel with errors.Is; the maintenance calls check
// their context before they start.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestCloseIsIdempotent(t *testing.T) {
	e := open(t)
	if err := e.WriteBatch([]Record{rec("k", 1, "v")}); err != nil {
		t.Fatal(err)
	}
	db, err := openTestJSONDB(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateObjectStore("s", "id"); err != nil {
		t.Fatal(err)
	}
	kinds := []struct {
		name string
		make func() (io.Closer, error)
	}{
		{"Engine", func() (io.Closer, error) { return Open(t.TempDir(), &Options{NoAutoBackground: true}) }},
		{"JSONDB", func() (io.Closer, error) { return OpenJSONDB(t.TempDir(), &Options{NoAutoBackground: true}) }},
		{"Snapshot", func() (io.Closer, error) { return e.Snapshot() }},
		{"Iterator", func() (io.Closer, error) { return e.NewIterator(All()) }},
		{"Iterator of a snapshot", func() (io.Closer, error) {
			s, err := e.Snapshot()
			if err != nil {
				return nil, err
			}
			defer s.Close()
			return s.NewIterator(All())
		}},
		{"Txn", func() (io.Closer, error) { return db.Transaction(t.Context(), []string{"s"}, true) }},
		{"Cursor", func() (io.Closer, error) {
			tx, err := db.Transaction(t.Context(), []string{"s"}, false)
			if err != nil {
				return nil, err
			}
			defer tx.Close() // the cursor outlives it
			return tx.OpenCursor("s", IndexRange{}, Next)
		}},
		{"Subscription", func() (io.Closer, error) { return db.Subscribe([]string{"s"}, IndexRange{}) }},
		{"Maintenance", func() (io.Closer, error) { return e.SpawnBackgroundMaintenance() }},
	}
	for _, k := range kinds {
		c, err := k.make()
		if err != nil || c == nil {
			t.Fatalf("%s: %v %v", k.name, c, err)
		}
		before := LiveHandles()
		for i := range 3 {
			if err := c.Close(); err != nil {
				t.Fatalf("%s: Close %d: %v", k.name, i+1, err)
			}
			if LiveHandles() != before-1 {
				t.Fatalf("%s: after Close %d: live handles %d, want %d", k.name, i+1, LiveHandles(), before-1)
			}
		}
	}
	// SpawnBackgroundMaintenance's nil (one already runs) closes too.
	var none *Maintenance
	if err := none.Close(); err != nil {
		t.Fatal(err)
	}
	// A Txn used after Close is inactive; a Txn closed before Commit was aborted.
	tx, err := db.Transaction(t.Context(), []string{"s"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Put("s", json.RawMessage(`{"id":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); !errors.Is(err, ErrTransactionInactive) {
		t.Fatalf("commit after Close: %v", err)
	}
	if n, err := db.Count("s"); err != nil || n != 0 {
		t.Fatalf("a closed transaction wrote: %d %v", n, err)
	}
}

func TestErrorsMatchTheirSentinels(t *testing.T) {
	sentinels := []*Error{ErrInvalidArgument, ErrNotFound, ErrIO, ErrCorruption, ErrLocked, ErrClosed,
		ErrConstraint, ErrReadOnly, ErrTransactionInactive, ErrData, ErrInternal, ErrBusy}
	// One sentinel per failure code the C library knows, each matching only itself.
	for i, s := range sentinels {
		if s.Code != Code(i+1) || s.Code.String() == "UNKNOWN" {
			t.Fatalf("sentinel %d has code %d (%s)", i, s.Code, s.Code)
		}
		if want := "flowdb: " + s.Code.String(); s.Error() != want {
			t.Fatalf("sentinel text %q, want %q", s.Error(), want)
		}
		for j, o := range sentinels {
			if errors.Is(s, o) != (i == j) {
				t.Fatalf("errors.Is(%v, %v) = %v", s, o, !(i == j))
			}
		}
	}
	if Code(len(sentinels)+1).String() != "UNKNOWN" {
		t.Fatalf("code %d has no sentinel", len(sentinels)+1)
	}

	dir := t.TempDir()
	e, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, err = Open(dir, nil)
	wrapped := fmt.Errorf("opening the second time: %w", err)
	if !errors.Is(err, ErrLocked) || !errors.Is(wrapped, ErrLocked) || errors.Is(err, ErrBusy) {
		t.Fatalf("second open: %v", err)
	}
	var fe *Error
	if !errors.As(wrapped, &fe) || fe.Code != CodeLocked {
		t.Fatalf("errors.As: %#v", wrapped)
	}
	// The message says the kind once, in words: no "LOCKED: locked:".
	if msg := err.Error(); !strings.HasPrefix(msg, "flowdb: locked: ") || strings.Contains(msg, "LOCKED") {
		t.Fatalf("message %q", msg)
	}
	_, err = e.PatchRecord([]byte("absent"), 1, nil, nil)
	if !errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), "flowdb: not found: ") {
		t.Fatalf("not found: %v", err)
	}
	if _, err := e.SeriesPage(nil, nil, -1); !errors.Is(err, ErrInvalidArgument) || err.Error() != "flowdb: invalid argument: limit -1 is negative" {
		t.Fatalf("negative limit: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Get([]byte("k"), 1); !errors.Is(err, ErrClosed) || err.Error() != "flowdb: closed: the engine was closed" {
		t.Fatalf("closed: %v", err)
	}
}

// A context already done stops a maintenance call before it starts: nothing is done.
func TestMaintenanceCallsCheckTheContext(t *testing.T) {
	e := open(t)
	if err := e.WriteBatch([]Record{rec("k", 1, "v")}); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func(context.Context) error{
		"Flush":             e.Flush,
		"Sync":              e.Sync,
		"TriggerCompaction": func(c context.Context) error { _, err := e.TriggerCompaction(c); return err },
		"RunCompactions":    func(c context.Context) error { _, err := e.RunCompactions(c); return err },
		"TriggerGC":         func(c context.Context) error { _, err := e.TriggerGC(c); return err },
		"EnforceRetention":  func(c context.Context) error { _, _, err := e.EnforceRetention(c); return err },
	}
	for name, call := range calls {
		if err := call(done); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s with a cancelled context: %v", name, err)
		}
	}
	if st, err := e.Stats(); err != nil || st.TotalFlushes != 0 || st.MemtableRecords != 1 {
		t.Fatalf("something was done: %+v %v", st, err)
	}
	for name, call := range calls {
		if err := call(t.Context()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if st, err := e.Stats(); err != nil || st.TotalFlushes == 0 {
		t.Fatalf("nothing was flushed: %+v %v", st, err)
	}

	db, err := openTestJSONDB(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Sync(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("JSONDB.Sync: %v", err)
	}
	if err := db.EngineFlush(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("JSONDB.EngineFlush: %v", err)
	}
	if err := db.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := db.EngineFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// A shutdown that fails with anything but ErrBusy has taken the database out of the
// C handle all the same: Close frees the handle, and a second Close is nil.
func TestJSONDBCloseAfterFailedShutdownFrees(t *testing.T) {
	start := LiveHandles()
	dir := t.TempDir()
	db, err := OpenJSONDB(dir, &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateObjectStore("s", "id"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put("s", json.RawMessage(`{"id":1}`)); err != nil {
		t.Fatal(err)
	}
	// The listener goes with the handle (not set again as after ErrBusy).
	if err := db.SetEventListener(func(Event) {}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); !errors.Is(err, ErrIO) {
		t.Fatalf("Close without its directory: %v, want ErrIO", err)
	}
	if LiveHandles() != start {
		t.Fatalf("after the failed Close: live handles %d, want %d", LiveHandles(), start)
	}
	for i := range 2 {
		if err := db.Close(); err != nil {
			t.Fatalf("Close %d after the failed one: %v", i+2, err)
		}
	}
	if _, err := db.Count("s"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Count after Close: %v", err)
	}
	if LiveHandles() != start {
		t.Fatalf("live handles %d, want %d", LiveHandles(), start)
	}
	runtime.KeepAlive(db)
}
