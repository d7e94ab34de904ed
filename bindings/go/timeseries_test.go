package flowdb

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// stamps is the set of TS of the live records of key (a query of that one key).
func stamps(t *testing.T, e *Engine, key string) string {
	t.Helper()
	got, err := e.Query(KeyRange([]byte(key), []byte(key)))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range got {
		if string(r.Key) != key {
			t.Fatalf("query of %s gave %s", key, r.Key)
		}
		fmt.Fprintf(&b, "%d ", r.TS)
	}
	return strings.TrimSpace(b.String())
}

func points(t *testing.T, e *Engine, keys []string, from, to int64) {
	t.Helper()
	var recs []Record
	for _, k := range keys {
		for ts := from; ts <= to; ts++ {
			recs = append(recs, rec(k, ts, "v"))
		}
	}
	if err := e.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
}

// Deleting by time: half-open keys and inclusive times (DeleteTimeRange), TS below a
// cutoff (DeletePrefixBefore, DeleteBefore), on a table and the memtable, through a
// compaction; the batch forms, applied in order; bad ranges change nothing.
func TestDeleteByTime(t *testing.T) {
	e := open(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	want := func(key, ts string) {
		t.Helper()
		if got := stamps(t, e, key); got != ts {
			t.Fatalf("%s: ts %q, want %q", key, got, ts)
		}
	}
	count := func(n int) {
		t.Helper()
		if got, err := e.Query(All()); err != nil || len(got) != n {
			t.Fatalf("%d records (%v), want %d", len(got), err, n)
		}
	}
	keys := []string{"cpu.a", "cpu.b", "cpu.c", "mem.a"}
	points(t, e, keys, 1, 5)
	must(e.Flush(t.Context()))
	points(t, e, keys, 6, 10)
	must(e.DeleteTimeRange([]byte("cpu.a"), []byte("cpu.c"), 3, 5)) // cpu.c is the excluded end
	want("cpu.a", "1 2 6 7 8 9 10")
	want("cpu.b", "1 2 6 7 8 9 10")
	want("cpu.c", "1 2 3 4 5 6 7 8 9 10")
	want("mem.a", "1 2 3 4 5 6 7 8 9 10")
	err := e.DeleteTimeRange([]byte("cpu.a"), []byte("cpu.z"), 9, 8)
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "ts_start") {
		t.Fatalf("reversed time range: %v", err)
	}
	if err := e.DeleteTimeRange([]byte("mem."), []byte("cpu."), 1, 10); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("reversed key range: %v", err)
	}
	must(e.DeleteTimeRange([]byte("cpu.c"), []byte("cpu.c"), math.MinInt64, math.MaxInt64)) // empty
	must(e.DeleteBefore(math.MinInt64))
	count(34)
	must(e.DeletePrefixBefore([]byte("mem."), 4))
	want("mem.a", "4 5 6 7 8 9 10")
	want("cpu.c", "1 2 3 4 5 6 7 8 9 10")
	must(e.DeleteBefore(2))
	want("cpu.a", "2 6 7 8 9 10")
	want("cpu.b", "2 6 7 8 9 10")
	want("cpu.c", "2 3 4 5 6 7 8 9 10")
	want("mem.a", "4 5 6 7 8 9 10")
	count(28)
	if r, _ := e.Get([]byte("cpu.a"), 3); r != nil {
		t.Fatal("cpu.a@3 survived")
	}
	if r, _ := e.GetLatest([]byte("mem.a")); r == nil || r.TS != 10 {
		t.Fatalf("latest mem.a %+v", r)
	}
	must(e.Flush(t.Context()))
	if _, err := e.TriggerCompaction(t.Context()); err != nil {
		t.Fatal(err)
	}
	count(28)
	want("cpu.b", "2 6 7 8 9 10")

	points(t, e, []string{"dsk.a", "dsk.b", "net.a"}, 1, 10)
	var b WriteBatch
	b.DeleteTimeRange([]byte("dsk.a"), []byte("dsk.b"), 5, 7).DeletePrefixBefore([]byte("net."), 9).DeleteBefore(3)
	// Nothing, and no operation:
	b.DeleteBefore(math.MinInt64).DeletePrefixBefore([]byte("x"), math.MinInt64)
	// After the delete it falls in: it stays.
	b.Put(rec("dsk.a", 6, "back"))
	if b.Len() != 4 {
		t.Fatalf("batch of %d", b.Len())
	}
	must(e.Write(&b, false))
	want("dsk.a", "3 4 6 8 9 10")
	want("dsk.b", "3 4 5 6 7 8 9 10")
	want("net.a", "9 10")
	want("cpu.c", "3 4 5 6 7 8 9 10")
	if r, _ := e.Get([]byte("dsk.a"), 6); r == nil || string(r.Value) != "back" {
		t.Fatalf("dsk.a@6 %+v", r)
	}
	b.Reset()
	b.Put(rec("dsk.a", 1, "never written")).DeleteTimeRange([]byte("a"), []byte("z"), 9, 1)
	if err := e.Write(&b, false); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "batch operation 1") {
		t.Fatalf("batch with a reversed time range: %v", err)
	}
	want("dsk.a", "3 4 6 8 9 10")
	must(e.Close())
	if err := e.DeleteBefore(5); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// Retention by age (30 days): points 40 days old go, those of a day and an hour ago
// stay; a second call has nothing due. 0 is no limit.
func TestRetention(t *testing.T) {
	const day = int64(86400 * 1_000_000)
	now := time.Now().UnixMicro()
	e, err := Open(t.TempDir(), &Options{NoAutoBackground: true, RetentionMaxAgeSecs: 30 * 86400})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var old, recent []Record
	for _, k := range []string{"cpu.a", "cpu.b"} {
		old = append(old, rec(k, now-45*day, "old"), rec(k, now-40*day, "old"))
		recent = append(recent, rec(k, now-day, "new"), rec(k, now-day/24, "new"))
	}
	if err := e.WriteBatch(old); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.WriteBatch(recent); err != nil {
		t.Fatal(err)
	}
	cutoff, ok, err := e.EnforceRetention(t.Context())
	if err != nil || !ok {
		t.Fatalf("EnforceRetention: %d %v %v", cutoff, ok, err)
	}
	if cutoff > time.Now().UnixMicro()-30*day || cutoff <= now-31*day {
		t.Fatalf("cutoff %d µs ago", now-cutoff)
	}
	left, err := e.Query(All())
	if err != nil || len(left) != 4 {
		t.Fatalf("%d records left (%v), want 4", len(left), err)
	}
	for _, r := range left {
		if string(r.Value) != "new" {
			t.Fatalf("kept %+v", r)
		}
	}
	for _, r := range old {
		if got, _ := e.Get(r.Key, r.TS); got != nil {
			t.Fatalf("old record kept: %+v", got)
		}
	}
	for _, r := range recent {
		if got, _ := e.Get(r.Key, r.TS); got == nil {
			t.Fatalf("new record gone: %s@%d", r.Key, r.TS)
		}
	}
	st, err := e.Stats()
	if err != nil || st.TotalRetentionDeletes != 1 || st.TotalTablesDeleted < 1 {
		t.Fatalf("stats %+v %v", st, err)
	}
	if c, ok, err := e.EnforceRetention(t.Context()); err != nil || ok || c != 0 {
		t.Fatalf("second EnforceRetention: %d %v %v", c, ok, err)
	}
	if got, _ := e.Query(All()); len(got) != 4 {
		t.Fatalf("%d records after the second call", len(got))
	}

	none, err := Open(t.TempDir(), &Options{NoAutoBackground: true}) // RetentionMaxAgeSecs 0: no limit
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	if err := none.WriteBatch(old); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := none.EnforceRetention(t.Context()); err != nil || ok {
		t.Fatalf("without limits: %v %v", ok, err)
	}
}
