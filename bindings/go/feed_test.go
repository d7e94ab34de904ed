package flowdb

// The change feed: Subscribe (store and key-range filters), SubscribeSince,
// ChangesSince, LastChangeSeq, SetChangeRetention, and Subscriptions closed, dropped,
// or outliving their database. Every wait is bounded.

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// recv is the next change of s as "kind store key", failing after 5 s; "closed" once
// C is closed.
func recv(t *testing.T, s *Subscription) (string, uint64) {
	t.Helper()
	select {
	case c, ok := <-s.C:
		if !ok {
			return "closed", 0
		}
		return fmt.Sprintf("%v %s %s", c.Kind, c.Store, c.Key), c.Seq
	case <-time.After(5 * time.Second):
		t.Fatal("no change within 5 s")
		return "", 0
	}
}

// quiet fails when s delivers something within d.
func quiet(t *testing.T, s *Subscription, d time.Duration) {
	t.Helper()
	select {
	case c, ok := <-s.C:
		t.Fatalf("unexpected %+v (open: %v)", c, ok)
	case <-time.After(d):
	}
}

func feedDB(t *testing.T) *JSONDB {
	t.Helper()
	db, err := openTestJSONDB(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "b"} {
		if err := db.CreateObjectStore(s, "id"); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestSubscribe(t *testing.T) {
	db := feedDB(t)
	if seq, err := db.LastChangeSeq(); err != nil || seq != 0 {
		t.Fatalf("LastChangeSeq of a new database: %d %v", seq, err)
	}
	all, err := db.Subscribe([]string{"a", "b"}, IndexRange{})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	ranged, err := db.Subscribe([]string{"a"}, IndexRange{Lower: &KeyBound{Key: raw(`2`)}, Upper: &KeyBound{Key: raw(`3`)}})
	if err != nil {
		t.Fatal(err)
	}
	defer ranged.Close()
	if all.StartSeq() != 0 {
		t.Fatalf("StartSeq %d", all.StartSeq())
	}
	quiet(t, all, 50*time.Millisecond)

	for _, d := range []string{`{"id":1}`, `{"id":2}`} {
		if _, err := db.Put("a", raw(d)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Put("b", raw(`{"id":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete("a", raw(`1`)); err != nil {
		t.Fatal(err)
	}
	if err := db.Clear("b"); err != nil {
		t.Fatal(err)
	}
	var first uint64
	for i, want := range []string{"put a 1", "put a 2", `put b "x"`, "delete a 1", "clear b null"} {
		got, seq := recv(t, all)
		if got != want {
			t.Fatalf("change %d: %q, want %q", i, got, want)
		}
		if i == 0 {
			first = seq
		}
	}
	if got, _ := recv(t, ranged); got != "put a 2" {
		t.Fatalf("ranged: %q", got)
	}
	quiet(t, ranged, 50*time.Millisecond)
	last, err := db.LastChangeSeq()
	if err != nil || last <= first {
		t.Fatalf("LastChangeSeq %d %v (first %d)", last, err, first)
	}

	// The log: everything after first-1, as ChangesSince and SubscribeSince see it.
	log, err := db.ChangesSince(first - 1)
	if err != nil || len(log) != 5 || log[0].Seq != first || log[4].Kind != ChangeClear || string(log[4].Key) != "null" {
		t.Fatalf("ChangesSince: %+v %v", log, err)
	}
	since, err := db.SubscribeSince(first-1, []string{"b"}, IndexRange{})
	if err != nil {
		t.Fatal(err)
	}
	defer since.Close()
	for _, want := range []string{`put b "x"`, "clear b null"} {
		if got, _ := recv(t, since); got != want {
			t.Fatalf("since: %q, want %q", got, want)
		}
	}

	// Errors.
	if _, err := db.Subscribe([]string{"nope"}, IndexRange{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown store: %v", err)
	}
	if _, err := db.Subscribe(nil, IndexRange{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("no store: %v", err)
	}

	// Retention: with 1 ms, changes expire; resuming before them is ErrNotFound.
	if err := db.SetChangeRetention(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put("a", raw(`{"id":3}`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := db.SetChangeRetention(time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put("a", raw(`{"id":4}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChangesSince(last); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired changes: %v", err)
	}
	if _, err := db.SubscribeSince(last, []string{"a"}, IndexRange{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SubscribeSince expired changes: %v", err)
	}
}

func TestSubscriptionLifetimes(t *testing.T) {
	before := LiveHandles()
	db := feedDB(t)
	s, err := db.Subscribe([]string{"a"}, IndexRange{})
	if err != nil {
		t.Fatal(err)
	}
	// Closed by Close: C closed, Err nil, Close again fine.
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("Close took %v", time.Since(start))
	}
	if got, _ := recv(t, s); got != "closed" || s.Err() != nil {
		t.Fatalf("after Close: %q %v", got, s.Err())
	}
	s.Close()

	// Outliving its database: what was committed, then C closed with ErrClosed.
	s, err = db.Subscribe([]string{"a"}, IndexRange{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := db.Put("a", raw(`{"id":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // a subscription does not hold the database
		t.Fatal(err)
	}
	if got, _ := recv(t, s); got != "put a 1" {
		t.Fatalf("after the database closed: %q", got)
	}
	if got, _ := recv(t, s); got != "closed" || !errors.Is(s.Err(), ErrClosed) {
		t.Fatalf("end: %q %v", got, s.Err())
	}
	if _, err := db.Subscribe([]string{"a"}, IndexRange{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}

	// Dropped unclosed: the garbage collector stops it and frees its handle, while the
	// database stays open.
	db = feedDB(t)
	func() {
		if _, err := db.Subscribe([]string{"a"}, IndexRange{}); err != nil {
			t.Fatal(err)
		}
	}()
	waitHandles(t, before+1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	waitHandles(t, before)
}
