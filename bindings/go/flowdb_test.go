package flowdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
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

func rec(key string, ts int64, value string) Record {
	return Record{Key: []byte(key), Ts: ts, Value: []byte(value)}
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
	if r, _ := e.GetLatest([]byte("cpu.a")); r == nil || r.Ts != 2 {
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
	must(e.DeleteBatch([]KeyTs{{[]byte("cpu.a"), 1}}))
	must(e.DeleteRange([]byte("mem."), []byte("mem/")))
	if got, _ := e.Query(All()); len(got) != 3 {
		t.Fatalf("after deletes: %d", len(got))
	}
	must(e.Flush())
	if _, err := e.TriggerCompaction(); err != nil {
		t.Fatal(err)
	}
	// Four flushes in one time window: a tiered merge is due, and then none.
	for i, k := range []string{"m.a", "m.b", "m.c", "m.d"} {
		must(e.WriteBatch([]Record{{Key: []byte(k), Ts: int64(i + 1), Value: []byte("v")}}))
		must(e.Flush())
	}
	for _, want := range []uint64{1, 0} {
		if n, err := e.RunCompactions(); err != nil || n != want {
			t.Fatalf("RunCompactions: %d, %v; want %d", n, err, want)
		}
	}
	if _, err := e.TriggerGC(); err != nil {
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
	must(e.Sync())
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
	mt.Stop()
	mt.Stop()
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
	if err := e.WriteBatch([]Record{{Key: nil, Ts: 1}}); !errors.Is(err, ErrInvalidArgument) {
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
		recs = append(recs, Record{Key: []byte(fmt.Sprintf("s%03d", i%50)), Ts: int64(i), Value: v})
	}
	if err := e.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TriggerCompaction(); err != nil {
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
	if err != nil || len(last) != 3 || last[0].Ts != 1957 || last[2].Ts != 1857 {
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
				if err := e.WriteBatch([]Record{{Key: key, Ts: int64(i), Value: []byte("v")}}); err != nil {
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

func TestJsonDB(t *testing.T) {
	db, err := OpenJsonDB(t.TempDir(), &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateStore(json.RawMessage(`{"name":"users","keyPath":"id","autoIncrement":true,"indexes":[{"name":"email","keyPath":"email","unique":true}]}`)))
	must(db.CreateIndex("users", "age", []string{"age"}, false, false))
	must(db.CreateObjectStore("plain", "k"))
	key, err := db.PutAuto("users", json.RawMessage(`{"email":"a@x","age":41}`))
	must(err)
	if string(key) != "1" {
		t.Fatalf("key %s", key)
	}
	type user struct {
		ID    int    `json:"id"`
		Email string `json:"email"`
		Age   int    `json:"age"`
	}
	_, err = db.PutValue("users", user{ID: 5, Email: "b@x", Age: 30})
	must(err)
	if _, err := db.Put("users", json.RawMessage(`{"id":6,"email":"a@x"}`)); !errors.Is(err, ErrConstraint) {
		t.Fatalf("unique: %v", err)
	}
	if _, err := db.Put("nope", json.RawMessage(`{"id":1}`)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown store: %v", err)
	}
	if _, err := db.Put("users", json.RawMessage(`{oops`)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad json: %v", err)
	}
	var u user
	ok, err := db.GetInto("users", json.RawMessage(`5`), &u)
	must(err)
	if !ok || u.Email != "b@x" {
		t.Fatalf("get %+v", u)
	}
	if doc, _ := db.Get("users", json.RawMessage(`9`)); doc != nil {
		t.Fatal("missing doc returned")
	}
	if n, _ := db.Count("users"); n != 2 {
		t.Fatalf("count %d", n)
	}
	if ds, _ := db.GetByIndex("users", "email", json.RawMessage(`"a@x"`)); len(ds) != 1 {
		t.Fatalf("by index %v", ds)
	}
	if ds, _ := db.RangeByIndex("users", "age", json.RawMessage(`0`), json.RawMessage(`35`)); len(ds) != 1 {
		t.Fatalf("range %v", ds)
	}
	def, err := db.GetStore("users")
	must(err)
	if def == nil || !def.AutoIncrement || def.NextAutoID != 6 /* id 5 moved the generator */ || len(def.Indexes) != 2 {
		t.Fatalf("store def %+v", def)
	}
	if d, _ := db.GetStore("nope"); d != nil {
		t.Fatal("unknown store defined")
	}
	all, err := db.IndexQuery("users", "age", IndexRange{}, Prev)
	must(err)
	if len(all) != 2 || !json.Valid(all[0]) {
		t.Fatalf("index query %v", all)
	}
	above, err := db.IndexQuery("users", "age", IndexRange{Lower: &KeyBound{Key: json.RawMessage(`30`), Open: true}}, Next)
	must(err)
	if len(above) != 1 {
		t.Fatalf("open lower bound %v", above)
	}
	if _, err := db.IndexQuery("users", "age", IndexRange{Lower: &KeyBound{Key: json.RawMessage(`5`)}, Upper: &KeyBound{Key: json.RawMessage(`1`)}}, Next); !errors.Is(err, ErrData) {
		t.Fatalf("lower > upper: %v", err)
	}
	if n, _ := db.CountByIndex("users", "age", IndexRange{Upper: &KeyBound{Key: json.RawMessage(`35`)}}); n != 1 {
		t.Fatalf("count by index %d", n)
	}
	for _, scan := range []bool{false, true} {
		_ = scan
		got, err := db.Query("users").WhereRange("age", json.RawMessage(`18`), json.RawMessage(`99`)).WhereIn("email", json.RawMessage(`["a@x","b@x"]`)).OrderBy("age", true).Offset(0).Limit(5).Collect(db)
		must(err)
		if len(got) != 2 || !json.Valid(got[0]) {
			t.Fatalf("query %v", got)
		}
	}
	if got, _ := db.Query("users").WhereEq("email", json.RawMessage(`"b@x"`)).Collect(db); len(got) != 1 {
		t.Fatalf("where_eq %v", got)
	}
	if _, err := db.Query("users").WhereEq("email", json.RawMessage(`{bad`)).Collect(db); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad query json: %v", err)
	}
	must(db.SetTransactionTimeout(2 * time.Second))
	if ds, err := db.GetRange("users", IndexRange{Lower: &KeyBound{Key: json.RawMessage(`2`)}}, Prev); err != nil || len(ds) != 1 {
		t.Fatalf("get range %v %v", ds, err)
	}
	must(db.EngineFlush())
	must(db.Sync())
	if m, err := db.EngineMetricsText(); err != nil || len(m) == 0 {
		t.Fatalf("engine metrics: %v", err)
	}
	names, _ := db.StoreNames()
	if len(names) != 2 {
		t.Fatalf("names %v", names)
	}
	tx, err := db.Transaction([]string{"users"}, true)
	must(err)
	_, err = tx.Put("users", json.RawMessage(`{"id":7,"email":"c@x"}`))
	must(err)
	if d, _ := tx.Get("users", json.RawMessage(`7`)); d == nil {
		t.Fatal("read-your-writes")
	}
	must(tx.Delete("users", json.RawMessage(`5`)))
	if k, err := tx.PutAuto("users", json.RawMessage(`{"email":"auto@x"}`)); err != nil || len(k) == 0 {
		t.Fatalf("txn put_auto %s %v", k, err)
	}
	if n, _ := tx.Count("users"); n != 3 {
		t.Fatalf("txn count %d", n)
	}
	if ds, _ := tx.Scan("users"); len(ds) != 3 {
		t.Fatalf("txn scan %v", ds)
	}
	if ds, _ := tx.GetByIndex("users", "email", json.RawMessage(`"c@x"`)); len(ds) != 1 {
		t.Fatalf("txn by index %v", ds)
	}
	if ds, _ := tx.RangeByIndex("users", "age", json.RawMessage(`0`), json.RawMessage(`100`)); len(ds) != 1 {
		t.Fatalf("txn range %v", ds)
	}
	if ds, err := tx.IndexQuery("users", "email", IndexRange{}, Next); err != nil || len(ds) != 3 {
		t.Fatalf("txn index query %v %v", ds, err)
	}
	if err := db.Close(); !errors.Is(err, ErrBusy) {
		t.Fatalf("close with an open transaction: %v", err)
	}
	must(tx.Commit())
	if _, err := tx.Put("users", json.RawMessage(`{"id":8}`)); !errors.Is(err, ErrTransactionInactive) {
		t.Fatalf("after commit: %v", err)
	}
	tx.Close()
	tx.Close()
	ds, _ := db.Scan("users")
	if len(ds) != 3 {
		t.Fatalf("scan %v", ds)
	}
	ro, err := db.Transaction([]string{"users"}, false)
	must(err)
	if _, err := ro.Put("users", json.RawMessage(`{"id":9}`)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only: %v", err)
	}
	must(ro.Abort())
	ro.Close()
	must(db.Delete("users", json.RawMessage(`7`)))
	must(db.DeleteIndex("users", "age"))
	must(db.DeleteObjectStore("plain"))
	must(db.Close())
	if _, err := db.Count("users"); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

// stamps is the set of Ts of the live records of key (a query of that one key).
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
		fmt.Fprintf(&b, "%d ", r.Ts)
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

// Deleting by time: half-open keys and inclusive times (DeleteTimeRange), Ts below a
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
	must(e.Flush())
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
	if r, _ := e.GetLatest([]byte("mem.a")); r == nil || r.Ts != 10 {
		t.Fatalf("latest mem.a %+v", r)
	}
	must(e.Flush())
	if _, err := e.TriggerCompaction(); err != nil {
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
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := e.WriteBatch(recent); err != nil {
		t.Fatal(err)
	}
	cutoff, ok, err := e.EnforceRetention()
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
		if got, _ := e.Get(r.Key, r.Ts); got != nil {
			t.Fatalf("old record kept: %+v", got)
		}
	}
	for _, r := range recent {
		if got, _ := e.Get(r.Key, r.Ts); got == nil {
			t.Fatalf("new record gone: %s@%d", r.Key, r.Ts)
		}
	}
	st, err := e.Stats()
	if err != nil || st.TotalRetentionDeletes != 1 || st.TotalTablesDeleted < 1 {
		t.Fatalf("stats %+v %v", st, err)
	}
	if c, ok, err := e.EnforceRetention(); err != nil || ok || c != 0 {
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
	if _, ok, err := none.EnforceRetention(); err != nil || ok {
		t.Fatalf("without limits: %v %v", ok, err)
	}
}

// seqOf is records as "key@ts" words, to compare read orders exactly.
func seqOf(recs []Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "%s@%d ", r.Key, r.Ts)
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
	must(e.Flush())
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
	if !it.Next() || !it.Next() || string(it.Record().Key) != "k.a" || it.Record().Ts != 2 {
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
			if string(s.Key) != want[i] || s.Points != 10 || s.FirstTs != 1 || s.LastTs != 10 {
				t.Fatalf("series %d: %+v, want %s with 10 points 1..10", i, s, want[i])
			}
		}
	}
	got, err := e.Series("")
	series(got, err, keys...)
	must(e.Flush())
	if _, err := e.TriggerCompaction(); err != nil {
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
