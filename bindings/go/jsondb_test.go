package flowdb

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJSONDB(t *testing.T) {
	db, err := OpenJSONDB(t.TempDir(), &Options{NoAutoBackground: true})
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
	must(db.EngineFlush(t.Context()))
	must(db.Sync(t.Context()))
	if m, err := db.EngineMetricsText(); err != nil || len(m) == 0 {
		t.Fatalf("engine metrics: %v", err)
	}
	names, _ := db.StoreNames()
	if len(names) != 2 {
		t.Fatalf("names %v", names)
	}
	tx, err := db.Transaction(t.Context(), []string{"users"}, true)
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
	must(tx.Close())
	must(tx.Close()) // idempotent
	ds, _ := db.Scan("users")
	if len(ds) != 3 {
		t.Fatalf("scan %v", ds)
	}
	ro, err := db.Transaction(t.Context(), []string{"users"}, false)
	must(err)
	if _, err := ro.Put("users", json.RawMessage(`{"id":9}`)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only: %v", err)
	}
	must(ro.Abort())
	must(ro.Close())
	must(db.Delete("users", json.RawMessage(`7`)))
	must(db.DeleteIndex("users", "age"))
	must(db.DeleteObjectStore("plain"))
	must(db.Close())
	if _, err := db.Count("users"); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

// Store names come in IndexedDB's order, by UTF-16 code unit (U+10000 before U+FF61,
// though its UTF-8 bytes are larger), and a transaction over no store is refused.
func TestJSONDBNameOrderAndEmptyScope(t *testing.T) {
	db, err := OpenJSONDB(t.TempDir(), &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{"\uFF61", "b", "\U00010000", "a"} {
		if err := db.CreateObjectStore(name, "k"); err != nil {
			t.Fatal(err)
		}
	}
	names, err := db.StoreNames()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b", "\U00010000", "\uFF61"}
	if len(names) != len(want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("names %q, want %q", names, want)
		}
	}
	if tx, err := db.Transaction(t.Context(), nil, false); !errors.Is(err, ErrInvalidArgument) || tx != nil {
		t.Fatalf("empty scope: %v %v", tx, err)
	}
}

// A NUL byte in a name would end it for C ("users\x00x" would be "users"): such
// names are refused with ErrInvalidArgument naming the argument, and nothing is done.
func TestJSONDBNamesWithNULAreRefused(t *testing.T) {
	db, err := openTestJSONDB(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateObjectStore("users", "id"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateIndex("users", "email", []string{"email"}, false, false); err != nil {
		t.Fatal(err)
	}
	refused := func(what string, err error, arg string) {
		t.Helper()
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), arg) || !strings.Contains(err.Error(), "NUL") {
			t.Fatalf("%s: %v, want ErrInvalidArgument naming %s and the NUL", what, err, arg)
		}
	}
	_, err = db.Put("users\x00x", json.RawMessage(`{"id":1}`))
	refused("Put", err, "store")
	if n, err := db.Count("users"); err != nil || n != 0 {
		t.Fatalf("Put wrote to the store before the NUL: count %d %v", n, err)
	}
	_, err = db.Count("users\x00x")
	refused("Count", err, "store")
	refused("CreateObjectStore", db.CreateObjectStore("other\x00", "id"), "name")
	refused("CreateObjectStore key path", db.CreateObjectStore("other", "id\x00x"), "keyPath")
	refused("CreateIndex", db.CreateIndex("users", "age", []string{"age\x00x"}, false, false), "keyPaths")
	refused("DeleteIndex", db.DeleteIndex("users", "email\x00x"), "name")
	refused("DeleteObjectStore", db.DeleteObjectStore("users\x00x"), "name")
	_, err = db.GetByIndex("users", "email\x00x", json.RawMessage(`"a"`))
	refused("GetByIndex", err, "index")
	_, err = db.Query("users").WhereEq("id\x00x", json.RawMessage(`1`)).Collect(db)
	refused("Query field", err, "field")
	_, err = db.Query("users\x00x").Collect(db)
	refused("Query store", err, "store")
	_, err = db.Transaction(t.Context(), []string{"users\x00x"}, true)
	refused("Transaction", err, "stores")
	if names, err := db.StoreNames(); err != nil || len(names) != 1 {
		t.Fatalf("stores %v %v", names, err)
	}
	if ds, err := db.GetByIndex("users", "email", json.RawMessage(`"a"`)); err != nil || len(ds) != 0 {
		t.Fatalf("index: %v %v", ds, err)
	}
	tx, err := db.Transaction(t.Context(), []string{"users"}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	_, err = tx.Put("users\x00x", json.RawMessage(`{"id":1}`))
	refused("Txn.Put", err, "store")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Count("users"); err != nil || n != 0 {
		t.Fatalf("Txn.Put wrote: count %d %v", n, err)
	}
	// A data directory with a NUL is refused too: "dir\x00x" would open "dir".
	dir := t.TempDir()
	_, err = OpenJSONDB(filepath.Join(dir, "db")+"\x00x", &Options{NoAutoBackground: true})
	refused("OpenJSONDB", err, "dir")
	if _, err := os.Stat(filepath.Join(dir, "db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenJSONDB made the directory before the NUL: %v", err)
	}
	refused("Checkpoint", db.Checkpoint(filepath.Join(dir, "cp")+"\x00x"), "dir")
	if _, err := os.Stat(filepath.Join(dir, "cp")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Checkpoint wrote the directory before the NUL: %v", err)
	}
}

// Negative counts and durations are refused, not wrapped to huge unsigned ones:
// Query.Limit and Offset when the query is collected, as Range.Limit does.
func TestNegativeQueryLimitOffsetAndTimeout(t *testing.T) {
	db, err := openTestJSONDB(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateObjectStore("s", "id"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := db.PutValue("s", map[string]int{"id": i}); err != nil {
			t.Fatal(err)
		}
	}
	for name, q := range map[string]*Query{
		"limit -1":  db.Query("s").Limit(-1),
		"offset -1": db.Query("s").Offset(-1),
	} {
		got, err := q.Collect(db)
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "negative") {
			t.Fatalf("%s: %v %v, want ErrInvalidArgument", name, got, err)
		}
	}
	if got, err := db.Query("s").Offset(1).Limit(1).Collect(db); err != nil || len(got) != 1 {
		t.Fatalf("offset 1 limit 1: %v %v", got, err)
	}
	err = db.SetTransactionTimeout(-time.Second)
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("negative timeout: %v, want ErrInvalidArgument", err)
	}
	if err := db.SetTransactionTimeout(0); err != nil {
		t.Fatal(err)
	}
}

// flowdb_query_new's NULL (a store name that is not UTF-8) is an error naming the
// store, not "query is NULL" from the first step.
func TestQueryOfANonUTF8StoreNamesIt(t *testing.T) {
	db, err := openTestJSONDB(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []*Query{db.Query("\xff"), db.Query("\xff").WhereEq("id", json.RawMessage(`1`)).Limit(1)} {
		_, err := q.Collect(db)
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "store") || strings.Contains(err.Error(), "NULL") {
			t.Fatalf("query of store \"\\xff\": %v, want ErrInvalidArgument naming the store", err)
		}
	}
}
