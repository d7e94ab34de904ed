package flowdb

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// seqOf is records as "key@ts" words, to compare read orders exactly.
func seqOf(recs []Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "%s@%d ", r.Key, r.TS)
	}
	return strings.TrimSpace(b.String())
}

// expectSeq is keys (in the order given) each with ts 1..10 (10..1 newest first),
// starting at first for the first key, at most max records.
func expectSeq(keys []string, first int64, newestFirst bool, max int) string {
	var recs []Record
	step, from := int64(1), int64(1)
	if newestFirst {
		step, from = -1, 10
	}
	for i, k := range keys {
		t := from
		if i == 0 {
			t = first
		}
		for ; t >= 1 && t <= 10 && len(recs) < max; t += step {
			recs = append(recs, rec(k, t, ""))
		}
	}
	return seqOf(recs)
}

// collect reads a scan to its end.
func collect(t *testing.T, seq func(func(Record, error) bool)) []Record {
	t.Helper()
	var out []Record
	for r, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// Newest first, limits, seeks and series: k.a < k.b < k.c with ts 1..10, ts 1..5 in a
// table and 6..10 in the memtable; orders compared exactly.
func TestNewestFirstSeekAndSeries(t *testing.T) {
	e := open(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	keys := []string{"k.a", "k.b", "k.c"}
	desc := []string{"k.c", "k.b", "k.a"}
	points(t, e, keys, 1, 5)
	must(e.Flush(t.Context()))
	points(t, e, keys, 6, 10)
	query := func(r Range, want string) {
		t.Helper()
		got, err := e.Query(r)
		must(err)
		if s := seqOf(got); s != want {
			t.Fatalf("query %+v:\n got %s\nwant %s", r, s, want)
		}
		if s := seqOf(collect(t, e.Scan(r))); s != want {
			t.Fatalf("scan %+v:\n got %s\nwant %s", r, s, want)
		}
	}
	query(All(), expectSeq(keys, 1, false, 30))
	query(All().Reverse(), expectSeq(desc, 10, true, 30))
	query(All().Reverse().Limit(4), "k.c@10 k.c@9 k.c@8 k.c@7")
	query(All().Limit(3), "k.a@1 k.a@2 k.a@3")
	query(All().Limit(0), "")
	query(All().Reverse().Limit(0), "")
	query(KeyRange([]byte("k.b"), []byte("k.c")).WithTime(3, 4).Reverse(), "k.c@4 k.c@3 k.b@4 k.b@3")
	query(Prefix([]byte("k.b")).Reverse().Limit(2), "k.b@10 k.b@9")
	if _, err := e.Query(All().Limit(-1)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative limit: %v", err)
	}
	for _, err := range e.Scan(All().Limit(-1)) {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("scan with a negative limit: %v", err)
		}
	}

	// Seek forwards (Seek) into the second key, after reading two.
	rest := func(it *Iterator, want string) {
		t.Helper()
		if s := seqOf(collect(t, it.All())); s != want {
			t.Fatalf("after a seek:\n got %s\nwant %s", s, want)
		}
	}
	it, err := e.NewIterator(All())
	must(err)
	first, second := it.Next(), it.Next()
	if !first || !second || string(it.Record().Key) != "k.a" || it.Record().TS != 2 {
		t.Fatalf("first two: %+v %v", it.Record(), it.Err())
	}
	must(it.Seek([]byte("k.b"), 5))
	rest(it, expectSeq(keys[1:], 5, false, 30))
	if it.Next() || it.Err() != nil {
		t.Fatal("a record after the end")
	}
	must(it.Seek([]byte("k.bb"), 0)) // absent: the next key; the ended scan yields again
	rest(it, expectSeq(keys[2:], 1, false, 30))
	must(it.Seek([]byte("k.c"), 11))
	rest(it, "")
	must(it.Close())

	// Seek in reverse (SeekForPrev): at or before, then backwards.
	it, err = e.NewIterator(All().Reverse())
	must(err)
	must(it.Seek([]byte("k.b"), 5))
	rest(it, expectSeq(desc[1:], 5, true, 30))
	must(it.Seek([]byte("k.bb"), 0))
	rest(it, expectSeq(desc[1:], 10, true, 30))
	must(it.Seek([]byte("k.a"), 0))
	rest(it, "")
	must(it.Close())

	// Outside the range k.b..k.c: before restarts, beyond ends, in both directions.
	kb := KeyRange([]byte("k.b"), []byte("k.c"))
	it, err = e.NewIterator(kb)
	must(err)
	must(it.Seek([]byte("k.a"), 3))
	rest(it, expectSeq(keys[1:], 1, false, 30))
	must(it.Seek([]byte("k.d"), 0))
	rest(it, "")
	must(it.Close())
	it, err = e.NewIterator(kb.Reverse())
	must(err)
	must(it.Seek([]byte("k.z"), 0))
	rest(it, expectSeq([]string{"k.c", "k.b"}, 10, true, 30))
	must(it.Seek([]byte("k.a"), 99))
	rest(it, "")
	must(it.Close())
	// The limit counts again from each seek: pages of 3.
	it, err = e.NewIterator(kb.Limit(3))
	must(err)
	rest(it, "k.b@1 k.b@2 k.b@3")
	must(it.Seek([]byte("k.b"), 9))
	rest(it, "k.b@9 k.b@10 k.c@1")
	before := LiveHandles()
	must(it.Close())
	must(it.Close())
	if LiveHandles() != before-1 {
		t.Fatal("Close did not free the iterator")
	}
	if err := it.Seek([]byte("k"), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("seek after close: %v", err)
	}
	if it.Next() || !errors.Is(it.Err(), ErrClosed) {
		t.Fatalf("next after close: %v", it.Err())
	}

	// Series: merged from the memtable and the table, then after a full compaction.
	series := func(got []SeriesInfo, err error, want ...string) {
		t.Helper()
		must(err)
		if len(got) != len(want) {
			t.Fatalf("series %+v, want %v", got, want)
		}
		for i, s := range got {
			if string(s.Key) != want[i] || s.Points != 10 || s.FirstTS != 1 || s.LastTS != 10 {
				t.Fatalf("series %d: %+v, want %s with 10 points 1..10", i, s, want[i])
			}
		}
	}
	got, err := e.Series("")
	series(got, err, keys...)
	must(e.Flush(t.Context()))
	if _, err := e.TriggerCompaction(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err = e.Series("")
	series(got, err, keys...)
	page, err := e.SeriesPage([]byte("k."), nil, 2)
	series(page, err, "k.a", "k.b")
	got, err = e.SeriesPage([]byte("k."), page[len(page)-1].Key, 2)
	series(got, err, "k.c")
	got, err = e.SeriesPage([]byte("k."), []byte("k.c"), 2)
	series(got, err)
	got, err = e.SeriesPage(nil, nil, 0)
	series(got, err)
	got, err = e.Series("k.b")
	series(got, err, "k.b")
	got, err = e.Series("nope")
	series(got, err)
	if _, err := e.SeriesPage(nil, nil, -1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative series limit: %v", err)
	}
	query(All().Reverse(), expectSeq(desc, 10, true, 30))

	// A snapshot: its reads ignore later writes, and so does a seek of a scan made
	// before them.
	s, err := e.Snapshot()
	must(err)
	defer s.Close()
	live, err := e.NewIterator(All().Reverse())
	must(err)
	defer live.Close()
	must(e.WriteBatch([]Record{rec("k.b", 11, "late"), rec("k.d", 1, "late")}))
	must(live.Seek([]byte("k.b"), math.MaxInt64))
	rest(live, expectSeq(desc[1:], 10, true, 30))
	snapRecs, err := s.Query(All().Reverse().Limit(4))
	must(err)
	if got := seqOf(snapRecs); got != "k.c@10 k.c@9 k.c@8 k.c@7" {
		t.Fatalf("snapshot reverse query: %s", got)
	}
	if got := seqOf(collect(t, s.Scan(All().Reverse()))); got != expectSeq(desc, 10, true, 30) {
		t.Fatalf("snapshot reverse scan: %s", got)
	}
	old, err := s.NewIterator(All().Reverse().Limit(4))
	must(err)
	must(old.Seek([]byte("k.b"), 100))
	rest(old, "k.b@10 k.b@9 k.b@8 k.b@7")
	must(old.Close())
	got, err = s.Series("")
	series(got, err, keys...)
	got, err = s.SeriesPage([]byte("k."), []byte("k.a"), 1)
	series(got, err, "k.b")
	if got, err := e.Series("k.d"); err != nil || len(got) != 1 || got[0].Points != 1 {
		t.Fatalf("k.d: %+v %v", got, err)
	}
	must(e.Close())
	if _, err := e.Series(""); !errors.Is(err, ErrClosed) {
		t.Fatalf("series after close: %v", err)
	}
	if _, err := e.NewIterator(All()); !errors.Is(err, ErrClosed) {
		t.Fatalf("iterator after close: %v", err)
	}
	if _, err := s.SeriesPage(nil, nil, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("snapshot series after the engine closed: %v", err)
	}
}
