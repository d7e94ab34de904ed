package flowdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"

	flowdb "github.com/flowdb/flowdb/bindings/go"
)

// tempDir is a fresh data directory for an example; remove it when done.
func tempDir() string {
	dir, err := os.MkdirTemp("", "flowdb-example-")
	if err != nil {
		log.Fatal(err)
	}
	return dir
}

// Open an engine, write points and read one back.
func ExampleOpen() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	e, err := flowdb.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	err = e.WriteBatch([]flowdb.Record{
		{Key: []byte("cpu.host-1"), TS: 1_000_000, Value: []byte("41.5")},
		{Key: []byte("cpu.host-1"), TS: 2_000_000, Value: []byte("42.0")},
	})
	if err != nil {
		log.Fatal(err)
	}
	r, err := e.Get([]byte("cpu.host-1"), 1_000_000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s@%d = %s\n", r.Key, r.TS, r.Value)
	latest, err := e.GetLatest([]byte("cpu.host-1"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("latest: %s\n", latest.Value)
	// Output:
	// cpu.host-1@1000000 = 41.5
	// latest: 42.0
}

// Write numeric points and aggregate them per series and time bucket: the maximum
// and the mean per 5 minutes of every series under "temp." (docs/numeric.md).
func ExampleEngine_Aggregate() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	e, err := flowdb.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	err = e.WritePoints([]flowdb.Point{
		{Key: []byte("temp.kitchen"), TS: 0, Value: 21.5},
		{Key: []byte("temp.kitchen"), TS: 60_000_000, Value: 22.0},
	})
	if err != nil {
		log.Fatal(err)
	}
	buckets, err := e.Aggregate(flowdb.Prefix([]byte("temp.")), 300_000_000, flowdb.AggMax, flowdb.AggAvg)
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range buckets {
		fmt.Printf("%s %d max %g avg %g\n", b.Key, b.Start, b.Values[0], b.Values[1])
	}
	// Output: temp.kitchen 0 max 22 avg 21.75
}

// Keep 1-minute min/max/sum/count of every series under "temp." (a rollup), and
// read the maximum per hour from it (docs/numeric.md, "Rollups").
func ExampleEngine_RollupAggregate() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	e, err := flowdb.Open(dir, &flowdb.Options{Rollups: []flowdb.RollupRule{{
		Name: "1m", Prefix: []byte("temp."), Step: 60_000_000,
		Functions: []flowdb.Agg{flowdb.AggMin, flowdb.AggMax, flowdb.AggSum, flowdb.AggCount},
	}}})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	err = e.WritePoints([]flowdb.Point{
		{Key: []byte("temp.kitchen"), TS: 0, Value: 21.5},
		{Key: []byte("temp.kitchen"), TS: 60_000_000, Value: 22.0},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := e.RunRollups(); err != nil { // background maintenance does it too
		log.Fatal(err)
	}
	hourly, err := e.RollupAggregate("1m", flowdb.Prefix([]byte("max:temp.")), 3_600_000_000, flowdb.AggMax)
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range hourly {
		fmt.Printf("%s %d hourly max %g\n", b.Key, b.Start, b.Values[0])
	}
	// Output: max:temp.kitchen 0 hourly max 22
}

// Query a key prefix within a time window.
func ExampleEngine_Query() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	e, err := flowdb.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	var batch []flowdb.Record
	for _, key := range []string{"cpu.a", "cpu.b", "mem.a"} {
		for ts := int64(1); ts <= 4; ts++ {
			batch = append(batch, flowdb.Record{Key: []byte(key), TS: ts, Value: []byte(fmt.Sprint(ts * 10))})
		}
	}
	if err := e.WriteBatch(batch); err != nil {
		log.Fatal(err)
	}
	recs, err := e.Query(flowdb.Prefix([]byte("cpu.")).WithTime(2, 3))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		fmt.Printf("%s@%d = %s\n", r.Key, r.TS, r.Value)
	}
	// Output:
	// cpu.a@2 = 20
	// cpu.a@3 = 30
	// cpu.b@2 = 20
	// cpu.b@3 = 30
}

// Scan newest first: a reverse range read lazily in a range-over-func loop
// (iter.Seq2[Record, error]); breaking out of the loop frees the scan.
func ExampleEngine_Scan() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	e, err := flowdb.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	var batch []flowdb.Record
	for ts := int64(1); ts <= 10; ts++ {
		batch = append(batch, flowdb.Record{Key: []byte("temp"), TS: ts, Value: []byte(fmt.Sprint(20 + ts))})
	}
	if err := e.WriteBatch(batch); err != nil {
		log.Fatal(err)
	}
	for r, err := range e.Scan(flowdb.Prefix([]byte("temp")).Reverse().Limit(3)) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d: %s\n", r.TS, r.Value)
	}
	// Output:
	// 10: 30
	// 9: 29
	// 8: 28
}

// List the series (distinct keys) under a prefix, from metadata.
func ExampleEngine_Series() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	e, err := flowdb.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	var batch []flowdb.Record
	for i, key := range []string{"cpu.a", "cpu.b", "mem.a"} {
		for ts := int64(1); ts <= int64(i+2); ts++ {
			batch = append(batch, flowdb.Record{Key: []byte(key), TS: ts * 100, Value: []byte("v")})
		}
	}
	if err := e.WriteBatch(batch); err != nil {
		log.Fatal(err)
	}
	series, err := e.Series("cpu.")
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range series {
		fmt.Printf("%s: %d points, %d..%d\n", s.Key, s.Points, s.FirstTS, s.LastTS)
	}
	// Output:
	// cpu.a: 2 points, 100..200
	// cpu.b: 3 points, 100..300
}

// Documents in a transaction: put, read back (read your writes), commit.
func ExampleJSONDB() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	db, err := flowdb.OpenJSONDB(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	err = db.CreateStore(json.RawMessage(`{"name":"users","keyPath":"id","autoIncrement":true,
		"indexes":[{"name":"email","keyPath":"email","unique":true}]}`))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	tx, err := db.Transaction(ctx, []string{"users"}, true)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Close() // after Commit: only frees it
	key, err := tx.PutAuto("users", json.RawMessage(`{"email":"ada@example.com","name":"Ada"}`))
	if err != nil {
		log.Fatal(err)
	}
	doc, err := tx.Get("users", key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("in the transaction: key %s, %s\n", key, doc)
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	var user struct{ Name string }
	if ok, err := db.GetInto("users", key, &user); err != nil || !ok {
		log.Fatal(ok, err)
	}
	fmt.Println("committed:", user.Name)
	_, err = db.Put("users", json.RawMessage(`{"id":2,"email":"ada@example.com"}`))
	fmt.Println("same email again is ErrConstraint:", errors.Is(err, flowdb.ErrConstraint))
	// Output:
	// in the transaction: key 1, {"email":"ada@example.com","id":1,"name":"Ada"}
	// committed: Ada
	// same email again is ErrConstraint: true
}

// Walk a store with a cursor, updating each document through it, then read keys by
// index. (An index cursor moving forwards would meet again the entries an update
// moves forwards: the cursor reads the transaction's writes.)
func ExampleCursor_All() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	db, err := flowdb.OpenJSONDB(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	err = db.CreateStore(json.RawMessage(`{"name":"items","keyPath":"id","indexes":[{"name":"price","keyPath":"price"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range []string{`{"id":1,"price":30}`, `{"id":2,"price":10}`, `{"id":3,"price":20}`} {
		if _, err := db.Add("items", json.RawMessage(d)); err != nil {
			log.Fatal(err)
		}
	}
	tx, err := db.Transaction(context.Background(), []string{"items"}, true)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Close()
	c, err := tx.OpenCursor("items", flowdb.IndexRange{}, flowdb.Next)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for e, err := range c.All() {
		if err != nil {
			log.Fatal(err)
		}
		var item struct {
			ID    int `json:"id"`
			Price int `json:"price"`
		}
		if err := json.Unmarshal(e.Value, &item); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("item %s: price %d\n", e.Key, item.Price)
		item.Price++
		doc, _ := json.Marshal(item)
		if _, err := c.Update(doc); err != nil {
			log.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	keys, err := db.GetAllKeysByIndex("items", "price", flowdb.IndexRange{Lower: &flowdb.KeyBound{Key: json.RawMessage(`15`)}}, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("priced 15 or more: %s\n", keys)
	// The same keys typed: numbers as float64, no JSON to parse.
	typed, err := db.GetAllKeysByIndexTyped("items", "price", flowdb.IndexRange{Lower: &flowdb.KeyBound{Key: json.RawMessage(`15`)}}, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range typed {
		fmt.Printf("id %v (a number: %v)\n", k.Number, k.Kind == flowdb.KeyNumber)
	}
	// Output:
	// item 1: price 30
	// item 2: price 10
	// item 3: price 20
	// priced 15 or more: [3 1]
	// id 3 (a number: true)
	// id 1 (a number: true)
}

// Errors print as "flowdb: <message>" and match their kind with errors.Is.
func ExampleError() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	e, err := flowdb.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	_, err = flowdb.Open(dir, nil) // the directory is locked by e
	fmt.Println(errors.Is(err, flowdb.ErrLocked), errors.Is(err, flowdb.ErrNotFound))
	var fe *flowdb.Error
	if errors.As(err, &fe) {
		fmt.Println(fe.Code)
	}
	// Output:
	// true false
	// LOCKED
}

// Copy a live database, and follow it from a read-only instance.
func ExampleEngine_Checkpoint() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	e, err := flowdb.Open(dir+"/db", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	if err := e.WriteBatch([]flowdb.Record{{Key: []byte("k"), TS: 1, Value: []byte("v1")}}); err != nil {
		log.Fatal(err)
	}
	if err := e.Checkpoint(dir + "/copy"); err != nil { // BackupTo copies every file
		log.Fatal(err)
	}
	reader, err := flowdb.OpenReadOnly(dir+"/db", nil) // beside the writer
	if err != nil {
		log.Fatal(err)
	}
	defer reader.Close()
	if err := e.WriteBatch([]flowdb.Record{{Key: []byte("k"), TS: 2, Value: []byte("v2")}}); err != nil {
		log.Fatal(err)
	}
	before, _ := reader.GetLatest([]byte("k"))
	if err := reader.CatchUp(); err != nil {
		log.Fatal(err)
	}
	after, _ := reader.GetLatest([]byte("k"))
	fmt.Printf("reader: %s, after CatchUp %s\n", before.Value, after.Value)
	err = reader.WriteBatch([]flowdb.Record{{Key: []byte("k"), TS: 3, Value: []byte("x")}})
	fmt.Println("write on the reader:", errors.Is(err, flowdb.ErrReadOnly))
	// Output:
	// reader: v1, after CatchUp v2
	// write on the reader: true
}

// Receive flush and compaction events.
func ExampleEngine_SetEventListener() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	e, err := flowdb.Open(dir, &flowdb.Options{NoAutoBackground: true})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	events := make(chan flowdb.Event, 16) // the listener runs on a thread of the library's
	if err := e.SetEventListener(func(ev flowdb.Event) { events <- ev }); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for ts := int64(1); ts <= 2; ts++ {
		if err := e.WriteBatch([]flowdb.Record{{Key: []byte("k"), TS: ts, Value: []byte("v")}}); err != nil {
			log.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := e.TriggerCompaction(ctx); err != nil {
		log.Fatal(err)
	}
	if err := e.SetEventListener(nil); err != nil { // returns after the last call
		log.Fatal(err)
	}
	close(events)
	for ev := range events {
		fmt.Println(ev.Kind, ev.TablesIn, "->", ev.TablesOut)
	}
	if err := e.BackgroundError(); err == nil {
		fmt.Println("no background error")
	}
	// Output:
	// flush 0 -> 1
	// flush 0 -> 1
	// compaction 2 -> 1
	// no background error
}

// Open a database at a schema version: the upgrade func creates what the version
// needs, once, and its changes commit with it.
func ExampleOpenJSONDBWithVersion() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	upgrade := func(up *flowdb.Upgrade, oldVersion, newVersion uint64) error {
		fmt.Printf("upgrade %d -> %d\n", oldVersion, newVersion)
		if oldVersion < 1 {
			if err := up.CreateObjectStore("notes", "[]"); err != nil { // out-of-line keys
				return err
			}
			if _, err := up.PutWithKey("notes", json.RawMessage(`"hello"`), json.RawMessage(`"greeting"`)); err != nil {
				return err
			}
		}
		return nil
	}
	db, err := flowdb.OpenJSONDBWithVersion(dir, nil, 1, upgrade)
	if err != nil {
		log.Fatal(err)
	}
	doc, _ := db.Get("notes", json.RawMessage(`"greeting"`))
	v, _ := db.Version()
	fmt.Printf("version %d: %s\n", v, doc)
	db.Close()
	db, err = flowdb.OpenJSONDBWithVersion(dir, nil, 1, upgrade) // at that version: no upgrade
	if err != nil {
		log.Fatal(err)
	}
	db.Close()
	// Output:
	// upgrade 0 -> 1
	// version 1: "hello"
}

// Follow the changes committed to a store.
func ExampleJSONDB_Subscribe() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	db, err := flowdb.OpenJSONDB(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateObjectStore("users", "id"); err != nil {
		log.Fatal(err)
	}
	sub, err := db.Subscribe([]string{"users"}, flowdb.IndexRange{})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	db.Put("users", json.RawMessage(`{"id":1}`))
	db.Delete("users", json.RawMessage(`1`))
	for range 2 {
		c := <-sub.C
		fmt.Println(c.Kind, c.Store, string(c.Key))
	}
	// Output:
	// put users 1
	// delete users 1
}
