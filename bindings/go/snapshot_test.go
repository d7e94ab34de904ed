package flowdb

import (
	"errors"
	"runtime"
	"sync"
	"testing"
)

func TestWriteBatchAllOrNothing(t *testing.T) {
	e := open(t)
	var b WriteBatch
	b.Put(rec("a", 1, "one")).PutTTL(rec("a", 2, "expired"), 1).Delete([]byte("a"), 0).DeleteRange([]byte("x"), []byte("y"))
	if b.Len() != 4 {
		t.Fatalf("len %d", b.Len())
	}
	if err := e.Write(&b, true); err != nil {
		t.Fatal(err)
	}
	// The same batch again (it holds only Go values), from several goroutines.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.Write(&b, false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := e.Query(Prefix([]byte("a"))); len(got) != 1 || got[0].ExpireAt != NeverExpires {
		t.Fatalf("after the batch: %+v", got)
	}
	b.Reset()
	b.Put(rec("b", 1, "never written")).DeleteRange([]byte("z"), []byte("a"))
	if err := e.Write(&b, false); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad range: %v", err)
	}
	if r, _ := e.Get([]byte("b"), 1); r != nil {
		t.Fatal("a failed batch wrote something")
	}
}

func TestSnapshotIsUnaffectedByLaterWrites(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(dir, &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WriteBatch([]Record{rec("k", 1, "old")}); err != nil {
		t.Fatal(err)
	}
	s, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WriteBatch([]Record{rec("k", 2, "new")}); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteBatch([]KeyTS{{Key: []byte("k"), TS: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	if r, err := s.GetLatest([]byte("k")); err != nil || r == nil || r.TS != 1 || string(r.Value) != "old" {
		t.Fatalf("snapshot latest: %+v %v", r, err)
	}
	if r, _ := s.Get([]byte("k"), 2); r != nil {
		t.Fatal("the snapshot sees a later write")
	}
	if got, _ := s.Query(All()); len(got) != 1 {
		t.Fatalf("snapshot query %+v", got)
	}
	n := 0
	for r, err := range s.Scan(All()) {
		if err != nil || r.TS != 1 {
			t.Fatalf("scan %+v %v", r, err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("scan %d", n)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get([]byte("k"), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("after the engine closed: %v", err)
	}
	before := LiveHandles()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if LiveHandles() != before-1 {
		t.Fatal("Close did not free the snapshot")
	}
	if _, err := s.Get([]byte("k"), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	// A snapshot dropped unclosed is freed by the garbage collector.
	e, err = Open(dir, &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := LiveHandles()
	if dropped, err := e.Snapshot(); err != nil || dropped == nil {
		t.Fatal(err)
	}
	waitHandles(t, base)
}
