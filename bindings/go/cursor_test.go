package flowdb

// The key-range reads and writes (Add, DeleteRange, Clear, GetAll*, GetKey*,
// CountRange) on a JSONDB and a Txn, and cursors: moves, writes, All, several on one
// transaction, a cursor outliving its transaction, JSONDB.OpenCursor.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	doc1 = `{"age":30,"id":1}`
	doc2 = `{"age":20,"id":2}`
	doc3 = `{"age":30,"id":3}`
)

// cursorDB is a database with a store "users" (key "id", index "age") holding doc1,
// doc2 and doc3.
func cursorDB(t *testing.T) *JSONDB {
	t.Helper()
	db, err := openTestJSONDB(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateStore(json.RawMessage(`{"name":"users","keyPath":"id","autoIncrement":true,"indexes":[{"name":"age","keyPath":"age"}]}`)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{doc1, doc2, doc3} {
		if _, err := db.Add("users", json.RawMessage(d)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// joined is the JSON values joined by "|".
func joined(vs []json.RawMessage) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, "|")
}

func key(k string) *KeyBound { return &KeyBound{Key: json.RawMessage(k)} }

func TestGetAllAddClear(t *testing.T) {
	db := cursorDB(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	all := IndexRange{}
	if _, err := db.Add("users", json.RawMessage(doc1)); !errors.Is(err, ErrConstraint) {
		t.Fatalf("add of an existing key: %v", err)
	}
	got, err := db.GetAll("users", all, 0)
	must(err)
	if joined(got) != doc1+"|"+doc2+"|"+doc3 {
		t.Fatalf("get all %s", joined(got))
	}
	if got, _ := db.GetAll("users", IndexRange{Lower: key("2")}, 1); joined(got) != doc2 {
		t.Fatalf("get all from 2, 1 %s", joined(got))
	}
	if got, _ := db.GetAllKeys("users", all, 2); joined(got) != "1|2" {
		t.Fatalf("keys %s", joined(got))
	}
	recs, err := db.GetAllRecords("users", all, 1, Prev)
	must(err)
	if len(recs) != 1 || string(recs[0].Key) != "3" || string(recs[0].PrimaryKey) != "3" || string(recs[0].Value) != doc3 {
		t.Fatalf("records %+v", recs)
	}
	if k, _ := db.GetKey("users", IndexRange{Lower: &KeyBound{Key: json.RawMessage("1"), Open: true}}); string(k) != "2" {
		t.Fatalf("get key %s", k)
	}
	if k, err := db.GetKey("users", IndexRange{Lower: key("9")}); k != nil || err != nil {
		t.Fatalf("get key of nothing %s %v", k, err)
	}
	if n, _ := db.CountRange("users", IndexRange{Upper: key("2")}); n != 2 {
		t.Fatalf("count range %d", n)
	}
	thirty := IndexRange{Lower: key("30"), Upper: key("30")}
	if got, _ := db.GetAllByIndex("users", "age", thirty, 0); joined(got) != doc1+"|"+doc3 {
		t.Fatalf("by index %s", joined(got))
	}
	if got, _ := db.GetAllKeysByIndex("users", "age", all, 0); joined(got) != "2|1|3" {
		t.Fatalf("keys by index %s", joined(got))
	}
	recs, err = db.GetAllRecordsByIndex("users", "age", all, 0, PrevUnique)
	must(err)
	if len(recs) != 2 || string(recs[0].Key) != "30" || string(recs[0].PrimaryKey) != "1" || string(recs[1].Value) != doc2 {
		t.Fatalf("records by index %+v", recs)
	}
	if k, _ := db.GetKeyByIndex("users", "age", thirty); string(k) != "1" {
		t.Fatalf("key by index %s", k)
	}
	if _, err := db.GetAll("users", all, -1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative count: %v", err)
	}
	if _, err := db.GetAllByIndex("users", "nope", all, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown index: %v", err)
	}
	if _, err := db.GetAllRecords("users", all, 0, Direction(7)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad direction: %v", err)
	}

	// In a transaction: its own writes, gone on Abort.
	tx, err := db.Transaction(t.Context(), []string{"users"}, true)
	must(err)
	k, err := tx.Add("users", json.RawMessage(`{"age":50}`))
	must(err)
	if string(k) != "4" {
		t.Fatalf("add key %s", k)
	}
	if _, err := tx.Add("users", json.RawMessage(`{"age":1,"id":4}`)); !errors.Is(err, ErrConstraint) {
		t.Fatalf("add of a key the transaction wrote: %v", err)
	}
	must(tx.DeleteRange("users", IndexRange{Upper: key("2")}))
	if got, _ := tx.GetAllKeys("users", all, 0); joined(got) != "3|4" {
		t.Fatalf("txn keys %s", joined(got))
	}
	if got, _ := tx.GetAll("users", all, 1); joined(got) != doc3 {
		t.Fatalf("txn get all %s", joined(got))
	}
	if r, _ := tx.GetAllRecords("users", all, 0, Prev); len(r) != 2 || string(r[0].Key) != "4" {
		t.Fatalf("txn records %+v", r)
	}
	if k, _ := tx.GetKey("users", all); string(k) != "3" {
		t.Fatalf("txn get key %s", k)
	}
	if n, _ := tx.CountRange("users", all); n != 2 {
		t.Fatalf("txn count %d", n)
	}
	fifty := IndexRange{Lower: key("50")}
	if got, _ := tx.GetAllByIndex("users", "age", fifty, 0); joined(got) != `{"age":50,"id":4}` {
		t.Fatalf("txn by index %s", joined(got))
	}
	if got, _ := tx.GetAllKeysByIndex("users", "age", all, 0); joined(got) != "3|4" {
		t.Fatalf("txn keys by index %s", joined(got))
	}
	if r, _ := tx.GetAllRecordsByIndex("users", "age", fifty, 0, Next); len(r) != 1 || string(r[0].Key) != "50" {
		t.Fatalf("txn records by index %+v", r)
	}
	if k, _ := tx.GetKeyByIndex("users", "age", fifty); string(k) != "4" {
		t.Fatalf("txn key by index %s", k)
	}
	must(tx.Clear("users"))
	if n, _ := tx.CountRange("users", all); n != 0 {
		t.Fatalf("count after clear %d", n)
	}
	must(tx.Abort())
	if _, err := tx.GetAll("users", all, 0); !errors.Is(err, ErrTransactionInactive) {
		t.Fatalf("after abort: %v", err)
	}
	must(tx.Close())
	if n, _ := db.CountRange("users", all); n != 3 {
		t.Fatalf("an aborted transaction wrote: %d", n)
	}

	// On the database: DeleteRange, then Clear (the key generator keeps its next key).
	must(db.DeleteRange("users", IndexRange{Lower: key("3")}))
	if got, _ := db.GetAllKeys("users", all, 0); joined(got) != "1|2" {
		t.Fatalf("after delete range %s", joined(got))
	}
	must(db.Clear("users"))
	if got, err := db.GetAll("users", all, 0); err != nil || len(got) != 0 {
		t.Fatalf("after clear %v %v", got, err)
	}
	if k, _ := db.PutAuto("users", json.RawMessage(`{"age":9}`)); string(k) != "4" {
		t.Fatalf("key after clear %s", k)
	}
	if err := db.Clear("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("clear of an unknown store: %v", err)
	}
}

func TestCursor(t *testing.T) {
	db := cursorDB(t)
	before := LiveHandles()
	tx, err := db.Transaction(t.Context(), []string{"users"}, true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tx.OpenCursor("users", IndexRange{}, Next)
	if err != nil {
		t.Fatal(err)
	}
	if e, on := c.Entry(); !on || string(e.Key) != "1" || string(e.PrimaryKey) != "1" || string(e.Value) != doc1 {
		t.Fatalf("first entry %+v %v", e, on)
	}
	// All: every entry from where it is; a break leaves it on the last one yielded.
	var keys []json.RawMessage
	for e, err := range c.All() {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, e.Key)
		if string(e.Key) == "2" {
			break
		}
	}
	if joined(keys) != "1|2" || string(c.Key()) != "2" {
		t.Fatalf("all, broken off: %s, on %s", joined(keys), c.Key())
	}
	if on, err := c.ContinueTo(json.RawMessage("3")); !on || err != nil || string(c.Value()) != doc3 {
		t.Fatalf("continue to 3: %v %v", on, err)
	}
	if _, err := c.ContinueTo(json.RawMessage("1")); !errors.Is(err, ErrData) {
		t.Fatalf("continue back: %v", err)
	}
	if on, err := c.Continue(); on || err != nil || c.Key() != nil {
		t.Fatalf("past the end: %v %v %s", on, err, c.Key())
	}
	if _, err := c.Advance(1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("advance past the end: %v", err)
	}

	// Update and Delete through a cursor; a second cursor on the same transaction.
	w, err := tx.OpenCursor("users", IndexRange{}, Prev)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := w.Update(json.RawMessage(`{"age":31,"id":3}`)); err != nil || string(k) != "3" || string(w.Value()) != doc3 {
		t.Fatalf("update %s %v, value %s", k, err, w.Value())
	}
	if _, err := w.Update(json.RawMessage(`{"age":31,"id":9}`)); !errors.Is(err, ErrData) {
		t.Fatalf("update to another key: %v", err)
	}
	if on, err := w.Advance(2); !on || err != nil || string(w.Key()) != "1" {
		t.Fatalf("advance 2: %v %v", on, err)
	}
	if err := w.Delete(); err != nil {
		t.Fatal(err)
	}
	idx, err := tx.OpenIndexCursor("users", "age", IndexRange{}, Next)
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for e, err := range idx.All() {
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, string(e.Key)+":"+string(e.PrimaryKey))
	}
	if strings.Join(entries, " ") != "20:2 31:3" {
		t.Fatalf("index entries %v", entries)
	}
	ik, err := tx.OpenIndexKeyCursor("users", "age", IndexRange{}, PrevUnique)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := ik.Entry(); string(e.Key) != "31" || e.Value != nil {
		t.Fatalf("index key cursor %+v", e)
	}
	if _, err := ik.ContinuePrimaryKey(json.RawMessage("20"), json.RawMessage("2")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("continue primary key in a unique direction: %v", err)
	}
	k, err := tx.OpenKeyCursor("users", IndexRange{}, Next)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("delete through a key cursor: %v", err)
	}
	i2, err := tx.OpenIndexCursor("users", "age", IndexRange{}, Next)
	if err != nil {
		t.Fatal(err)
	}
	if on, err := i2.ContinuePrimaryKey(json.RawMessage("31"), json.RawMessage("3")); !on || err != nil || string(i2.PrimaryKey()) != "3" {
		t.Fatalf("continue primary key: %v %v", on, err)
	}
	if _, err := tx.OpenIndexCursor("users", "nope", IndexRange{}, Next); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown index: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// Its transaction committed, then closed: moves and writes fail, Close still works.
	if _, err := i2.Continue(); !errors.Is(err, ErrTransactionInactive) {
		t.Fatalf("continue after commit: %v", err)
	}
	tx.Close()
	if _, err := w.Update(json.RawMessage(doc2)); !errors.Is(err, ErrTransactionInactive) {
		t.Fatalf("update after close: %v", err)
	}
	for _, cu := range []*Cursor{c, w, idx, ik, k, i2} {
		if err := cu.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Continue(); !errors.Is(err, ErrClosed) {
		t.Fatalf("continue after Close: %v", err)
	}
	if LiveHandles() != before {
		t.Fatalf("live handles %d, want %d", LiveHandles(), before)
	}
	if got, _ := db.GetAll("users", IndexRange{}, 0); joined(got) != doc2+`|{"age":31,"id":3}` {
		t.Fatalf("after the cursors' writes %s", joined(got))
	}
}

func TestDatabaseCursor(t *testing.T) {
	db := cursorDB(t)
	before := LiveHandles()
	c, err := db.OpenCursor(t.Context(), "users", IndexRange{Lower: key("2")}, Prev, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); !errors.Is(err, ErrBusy) {
		t.Fatalf("close under a cursor: %v", err)
	}
	if err := c.Delete(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("delete through a database cursor: %v", err)
	}
	var keys []json.RawMessage
	for e, err := range c.All() {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, e.Key)
	}
	if joined(keys) != "3|2" {
		t.Fatalf("keys %s", joined(keys))
	}
	// A read-write transaction over its store waits for it (here: past its context).
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := db.Transaction(ctx, []string{"users"}, true); err == nil {
		t.Fatal("a read-write transaction began beside a database cursor")
	}
	c.Close()
	ic, err := db.OpenIndexCursor(t.Context(), "users", "age", IndexRange{}, Next, true)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := ic.Entry(); string(e.Key) != "20" || string(e.PrimaryKey) != "2" || e.Value != nil {
		t.Fatalf("index key cursor %+v", e)
	}
	ic.Close()
	if _, err := db.OpenIndexCursor(t.Context(), "users", "nope", IndexRange{}, Next, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown index: %v", err)
	}
	if LiveHandles() != before {
		t.Fatalf("live handles %d, want %d", LiveHandles(), before)
	}
	tx, err := db.Transaction(t.Context(), []string{"users"}, true) // nothing holds the store now
	if err != nil {
		t.Fatal(err)
	}
	tx.Close()
}
