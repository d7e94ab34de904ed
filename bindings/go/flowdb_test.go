package flowdb

import (
	"encoding/json"
	"errors"
	"fmt"
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
