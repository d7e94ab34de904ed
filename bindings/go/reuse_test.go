package flowdb

// Regression tests for handles used the ordinary ways: a built query collected again
// and again (polling) and from several goroutines, a maintenance handle stopped twice
// (closed) or dropped, and a record whose ExpireAt is left zero. The suite runs them plain,
// under -race and with GOEXPERIMENT=cgocheck2 (test.sh).

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

func TestQueryCollectedManyTimes(t *testing.T) {
	db, err := openTestJSONDB(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateObjectStore("todos", "id"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateIndex("todos", "by_pri", []string{"pri"}, false, false); err != nil {
		t.Fatal(err)
	}
	q := db.Query("todos").WhereRange("pri", json.RawMessage(`1`), json.RawMessage(`5`)).OrderBy("pri", true).Limit(3)
	// Polling: the same query after each write sees the new state.
	for i := 0; i < 8; i++ {
		doc := fmt.Sprintf(`{"id":%d,"pri":%d,"title":"t%d"}`, i, i%6, i)
		if _, err := db.Put("todos", json.RawMessage(doc)); err != nil {
			t.Fatal(err)
		}
		runtime.GC() // anything the query freed too early would be reused now
		got, err := q.Collect(db)
		if err != nil {
			t.Fatalf("collect %d: %v", i, err)
		}
		want := 0
		for j := 0; j <= i; j++ {
			if p := j % 6; p >= 1 && p < 5 {
				want++
			}
		}
		if want > 3 {
			want = 3
		}
		if len(got) != want {
			t.Fatalf("collect %d: %d documents, want %d: %s", i, len(got), want, got)
		}
	}
	// The same query from several goroutines at once.
	first, err := q.Collect(db)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				got, err := q.Collect(db)
				if err != nil || fmt.Sprint(got) != fmt.Sprint(first) {
					t.Errorf("concurrent collect: %s %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// A bad step fails every run the same way, and leaves the query reusable.
	bad := db.Query("todos").WhereEq("pri", json.RawMessage(`{`))
	for i := 0; i < 3; i++ {
		if _, err := bad.Collect(db); err == nil {
			t.Fatal("a bad value was accepted")
		}
	}
	// A query never collected holds no C memory: building one allocates nothing in C.
	before := LiveHandles()
	_ = db.Query("todos").WhereEq("pri", json.RawMessage(`1`)).Limit(1)
	if LiveHandles() != before {
		t.Fatal("building a query made a C handle")
	}
}

func TestMaintenanceStopTwiceAndDropped(t *testing.T) {
	e, err := Open(t.TempDir(), &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := LiveHandles()
	m, err := e.SpawnBackgroundMaintenance()
	if err != nil || m == nil {
		t.Fatalf("spawn: %v %v", m, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Dropped without Close: the cleanup stops it; a new one can start after.
	if dropped, err := e.SpawnBackgroundMaintenance(); err != nil || dropped == nil {
		t.Fatalf("spawn after Close: %v %v", dropped, err)
	}
	waitHandles(t, base)
	again, err := e.SpawnBackgroundMaintenance()
	if err != nil || again == nil {
		t.Fatalf("spawn after the cleanup: %v %v", again, err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestZeroExpireAtNeverExpires(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(dir, &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WriteBatch([]Record{{Key: []byte("zero"), TS: 1000, Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = Open(dir, &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r, err := e.Get([]byte("zero"), 1000)
	if err != nil || r == nil || r.ExpireAt != NeverExpires {
		t.Fatalf("zero ExpireAt: %+v %v", r, err)
	}
}

// openTestJSONDB opens a JSON database in a test's temporary directory, closed
// when the test ends.
func openTestJSONDB(t *testing.T) (*JSONDB, error) {
	t.Helper()
	db, err := OpenJSONDB(t.TempDir(), &Options{NoAutoBackground: true})
	if err == nil {
		t.Cleanup(func() { db.Close() })
	}
	return db, err
}
