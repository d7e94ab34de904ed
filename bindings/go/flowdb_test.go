package flowdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T) *Engine {
	t.Helper()
	e, err := Open(t.TempDir(), &Options{NoAutoBackground: true, SyncMode: SyncInterval, SyncIntervalMs: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// waitHandles runs the garbage collector until LiveHandles is want (the cleanups of
// dropped handles run on a goroutine of their own), failing after 10 s.
func waitHandles(t *testing.T, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for LiveHandles() != want {
		if time.Now().After(deadline) {
			t.Fatalf("live handles %d, want %d", LiveHandles(), want)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func rec(key string, ts int64, value string) Record {
	return Record{Key: []byte(key), TS: ts, Value: []byte(value)}
}

func TestEngineCalls(t *testing.T) {
	e := open(t)
	if Version() == "" {
		t.Fatal("no version")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.WriteBatch([]Record{rec("cpu.a", 1, "1"), rec("cpu.a", 2, "2"), rec("cpu.b", 1, "3"), rec("mem.a", 5, "4")}))
	must(e.WriteBatchSync([]Record{rec("cpu.c", 9, "x")}))
	must(e.WriteBatchTTL([]Record{rec("old", 1, "gone")}, 1))
	r, err := e.Get([]byte("cpu.a"), 2)
	must(err)
	if r == nil || string(r.Value) != "2" || r.ExpireAt != NeverExpires {
		t.Fatalf("get: %+v", r)
	}
	if r, _ := e.Get([]byte("old"), 1); r != nil {
		t.Fatal("expired record visible")
	}
	if r, _ := e.GetLatest([]byte("cpu.a")); r == nil || r.TS != 2 {
		t.Fatalf("latest: %+v", r)
	}
	for _, c := range []struct {
		r    Range
		want int
	}{{All(), 5}, {Prefix([]byte("cpu.")), 4}, {KeyRange([]byte("cpu.b"), []byte("mem.a")), 3}, {TimeRange(1, 1), 2}, {Prefix([]byte("cpu.")).WithTime(2, 9), 2}} {
		got, err := e.Query(c.r)
		must(err)
		if len(got) != c.want {
			t.Fatalf("query %+v: %d records, want %d", c.r, len(got), c.want)
		}
		n := 0
		for rec, err := range e.Scan(c.r) {
			must(err)
			if len(rec.Key) == 0 {
				t.Fatal("empty key")
			}
			n++
		}
		if n != c.want {
			t.Fatalf("scan %+v: %d", c.r, n)
		}
	}
	must(e.DeleteBatch([]KeyTS{{[]byte("cpu.a"), 1}}))
	must(e.DeleteRange([]byte("mem."), []byte("mem/")))
	if got, _ := e.Query(All()); len(got) != 3 {
		t.Fatalf("after deletes: %d", len(got))
	}
	must(e.Flush(t.Context()))
	if _, err := e.TriggerCompaction(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Four flushes in one time window: a tiered merge is due, and then none.
	for i, k := range []string{"m.a", "m.b", "m.c", "m.d"} {
		must(e.WriteBatch([]Record{{Key: []byte(k), TS: int64(i + 1), Value: []byte("v")}}))
		must(e.Flush(t.Context()))
	}
	for _, want := range []uint64{1, 0} {
		if n, err := e.RunCompactions(t.Context()); err != nil || n != want {
			t.Fatalf("RunCompactions: %d, %v; want %d", n, err, want)
		}
	}
	if _, err := e.TriggerGC(t.Context()); err != nil {
		t.Fatal(err)
	}
	st, err := e.Stats()
	must(err)
	if st.TotalRecordsWritten < 6 || st.TotalFlushes < 1 || st.SSTableCount < 1 || st.WriteAmplification <= 1 {
		t.Fatalf("stats %+v", st)
	}
	ttl := uint64(60)
	p, err := e.PatchRecord([]byte("cpu.b"), 1, []byte("new"), &ttl)
	must(err)
	if string(p.Value) != "new" || p.ExpireAt != 1+60_000_000 {
		t.Fatalf("patch %+v", p)
	}
	if _, err := e.PatchRecord([]byte("nope"), 1, nil, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("patch missing: %v", err)
	}
	n := 0
	for _, err := range e.ScanOpt(All(), ReadOptions{FillCache: false, VerifyChecksums: true}) {
		must(err)
		n++
	}
	if n != 6 { // two of the calls above, and m.a to m.d
		t.Fatalf("scan opt %d", n)
	}
	must(e.Sync(t.Context()))
	if r := e.GetSync([]byte("cpu.c"), 9); r == nil { // cpu.b@1 expired: its patched TTL ran from ts 1
		t.Fatal("GetSync")
	}
	if r := e.GetSync([]byte("absent"), 1); r != nil {
		t.Fatal("GetSync of an absent key")
	}
	mt, err := e.SpawnBackgroundMaintenance()
	must(err)
	if mt == nil {
		t.Fatal("maintenance did not start")
	}
	if again, _ := e.SpawnBackgroundMaintenance(); again != nil {
		t.Fatal("a second maintenance thread")
	}
	must(mt.Close())
	must(mt.Close())
	m, err := e.MetricsText()
	must(err)
	if len(m) == 0 {
		t.Fatal("no metrics")
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, nil)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	var fe *Error
	if !errors.As(err, &fe) || fe.Code != CodeLocked || fe.Msg == "" {
		t.Fatalf("error details: %#v", err)
	}
	if err := e.WriteBatch([]Record{{Key: nil, TS: 1}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := Open(t.TempDir(), &Options{TimeBucketSecs: 1 << 62}); !errors.Is(err, ErrInvalidArgument) { // overflows microseconds
		t.Fatalf("bad option: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal("Close is idempotent")
	}
	if _, err := e.Get([]byte("k"), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := Open(dir, nil); err != nil {
		t.Fatalf("lock released at Close: %v", err)
	}
}

// Block compression: a value that is no Compression is named at open; tables
// written with LZ4 read back whole when reopened with zstd.
func TestBlockCompression(t *testing.T) {
	if _, err := Open(t.TempDir(), &Options{BlockCompression: Compression(9)}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "block compression 9 is not a Compression") {
		t.Fatalf("bad compression: %v", err)
	}
	dir := t.TempDir()
	e, err := Open(dir, &Options{NoAutoBackground: true, BlockCompression: CompressionLZ4})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for i := 0; i < 3000; i++ {
		recs = append(recs, Record{Key: []byte(fmt.Sprintf("s%02d", i%30)), TS: int64(i),
			Value: []byte(fmt.Sprintf("reading=%d;unit=celsius", i*7))})
	}
	if err := e.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e, err = Open(dir, &Options{NoAutoBackground: true, BlockCompression: CompressionZstd})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, err := e.Query(Prefix([]byte("s")))
	if err != nil || len(got) != 3000 {
		t.Fatalf("query: %d %v", len(got), err)
	}
	r, err := e.Get([]byte("s07"), 2977)
	if err != nil || r == nil || string(r.Value) != "reading=20839;unit=celsius" {
		t.Fatalf("get: %+v %v", r, err)
	}
}

// Tuning: a bad value is named at open; small tables make a full compaction write
// several, read back whole.
func TestTuning(t *testing.T) {
	if _, err := Open(t.TempDir(), &Options{ZstdLevel: 40}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "zstd_level") {
		t.Fatalf("bad zstd level: %v", err)
	}
	e, err := Open(t.TempDir(), &Options{NoAutoBackground: true, ZstdLevel: 3, BlockRestartInterval: 8,
		IndexPartitionBlocks: 4, TargetTableBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var recs []Record
	x := uint32(1)
	for i := 0; i < 2000; i++ {
		v := make([]byte, 63)
		for j := range v {
			x = x*1103515245 + 12345 // values that do not compress
			v[j] = byte(x >> 24)
		}
		recs = append(recs, Record{Key: []byte(fmt.Sprintf("s%03d", i%50)), TS: int64(i), Value: v})
	}
	if err := e.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TriggerCompaction(t.Context()); err != nil {
		t.Fatal(err)
	}
	st, err := e.Stats()
	if err != nil || st.SSTableCount < 3 {
		t.Fatalf("tables: %+v %v", st, err)
	}
	if got, err := e.Query(Prefix([]byte("s"))); err != nil || len(got) != 2000 {
		t.Fatalf("query: %d %v", len(got), err)
	}
	// The newest points of one series, newest first, across the run's tables.
	last, err := e.LastN([]byte("s007"), 3)
	if err != nil || len(last) != 3 || last[0].TS != 1957 || last[2].TS != 1857 {
		t.Fatalf("LastN: %+v %v", last, err)
	}
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if all, err := snap.LastN([]byte("s007"), 100); err != nil || len(all) != 40 {
		t.Fatalf("snapshot LastN: %d %v", len(all), err)
	}
}

func TestEarlyBreakFreesTheScan(t *testing.T) {
	e := open(t)
	var recs []Record
	for i := 0; i < 100; i++ {
		recs = append(recs, rec(fmt.Sprintf("k%03d", i), int64(i), "v"))
	}
	if err := e.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	before := LiveHandles()
	for i := 0; i < 50; i++ {
		n := 0
		for _, err := range e.Scan(All()) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 3 {
				break
			}
		}
	}
	if LiveHandles() != before {
		t.Fatalf("live handles %d, want %d", LiveHandles(), before)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	e := open(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			key := []byte(fmt.Sprintf("g%d", g))
			for i := 0; i < 200; i++ {
				if err := e.WriteBatch([]Record{{Key: key, TS: int64(i), Value: []byte("v")}}); err != nil {
					t.Error(err)
					return
				}
				if r, err := e.Get(key, int64(i)); err != nil || r == nil {
					t.Errorf("get %d: %v %v", i, r, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if got, _ := e.Query(Prefix([]byte("g"))); len(got) != 800 {
		t.Fatalf("%d records", len(got))
	}
}

// A NUL byte in a path or name would end it for C ("dir\x00x" would be "dir"): such
// strings are refused with ErrInvalidArgument naming the argument, and nothing is done.
func TestEngineStringsWithNULAreRefused(t *testing.T) {
	refused := func(what string, err error, arg string) {
		t.Helper()
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), arg) || !strings.Contains(err.Error(), "NUL") {
			t.Fatalf("%s: %v, want ErrInvalidArgument naming %s and the NUL", what, err, arg)
		}
	}
	absent := func(what, path string) {
		t.Helper()
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s wrote %s (the path before the NUL): %v", what, path, err)
		}
	}
	base := t.TempDir()
	live := LiveHandles()
	_, err := Open(filepath.Join(base, "db")+"\x00x", &Options{NoAutoBackground: true})
	refused("Open", err, "dir")
	absent("Open", filepath.Join(base, "db"))
	_, err = OpenReadOnly(filepath.Join(base, "db")+"\x00x", nil)
	refused("OpenReadOnly", err, "dir")
	dir := filepath.Join(base, "ok")
	_, err = Open(dir, &Options{NoAutoBackground: true, MetricsLabels: []MetricsLabel{{Name: "db\x00x", Value: "a"}}})
	refused("Options.MetricsLabels name", err, "Name")
	_, err = Open(dir, &Options{NoAutoBackground: true, MetricsLabels: []MetricsLabel{{Name: "db", Value: "a\x00b"}}})
	refused("Options.MetricsLabels value", err, "Value")
	_, err = Open(dir, &Options{NoAutoBackground: true, Rollups: []RollupRule{{Name: "1m\x00x", Step: minute, Functions: []Agg{AggMax}}}})
	refused("Options.Rollups name", err, "Name")
	absent("Open with a bad option", dir)
	if LiveHandles() != live {
		t.Fatalf("live handles %d, want %d", LiveHandles(), live)
	}

	e := rollupEngine(t, dir)
	defer e.Close()
	if err := e.WritePoints([]Point{pt("cpu.a", 0, 1)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.RollupWatermark("1m\x00x")
	refused("RollupWatermark", err, "name")
	_, err = e.RollupQuery("1m\x00x", All())
	refused("RollupQuery", err, "name")
	_, err = e.RollupAggregate("1m\x00x", All(), minute, AggMax)
	refused("RollupAggregate", err, "name")
	refused("Checkpoint", e.Checkpoint(filepath.Join(base, "cp")+"\x00x"), "dir")
	absent("Checkpoint", filepath.Join(base, "cp"))
	refused("BackupTo", e.BackupTo(filepath.Join(base, "bk")+"\x00x"), "dir")
	absent("BackupTo", filepath.Join(base, "bk"))
}

// Scans that merge three runs of one window charge for it; once they have paid
// (the runs' bytes / 64 charges, docs/design.md "Merges for reads"), RunCompactions
// merges them into one, which Stats counts, and every record reads back.
func TestRangeReadsMergeTheRunsTheyRead(t *testing.T) {
	e := open(t)
	keys := []string{"cpu.a", "cpu.b", "cpu.c", "cpu.d"}
	for f := 0; f < 3; f++ {
		var batch []Record
		for _, k := range keys {
			batch = append(batch, rec(k, int64(f+1), strings.Repeat("v", 64)))
		}
		mustOK(t, e.WriteBatch(batch))
		mustOK(t, e.Flush(t.Context()))
	}
	st, err := e.Stats()
	mustOK(t, err)
	due := st.SSTableBytes / 64
	for i := uint64(0); i*2 < due+2; i++ {
		got, err := e.Query(All())
		mustOK(t, err)
		if len(got) != 12 {
			t.Fatalf("query: %d records, want 12", len(got))
		}
	}
	if n, err := e.RunCompactions(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunCompactions: %d, %v; want 1", n, err)
	}
	st, err = e.Stats()
	mustOK(t, err)
	if st.TotalReadMerges != 1 || st.SSTableCount != 1 {
		t.Fatalf("%d merges for reads, %d tables; want 1 and 1", st.TotalReadMerges, st.SSTableCount)
	}
	if got, _ := e.Query(All()); len(got) != 12 {
		t.Fatalf("after the merge: %d records, want 12", len(got))
	}
}
