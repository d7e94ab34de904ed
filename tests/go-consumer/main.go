// Command flowdb-consumer is a program outside the flowdb module that requires
// github.com/flowdb/flowdb/bindings/go as any consumer does (go.mod: require, and a
// replace only until the release tag is published). test.sh builds, vets and runs it.
// Usage: flowdb-consumer DATA_DIR
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	flowdb "github.com/flowdb/flowdb/bindings/go"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: flowdb-consumer DATA_DIR")
	}
	dir := os.Args[1]
	ctx := context.Background()

	e, err := flowdb.Open(filepath.Join(dir, "ts"), &flowdb.Options{NoAutoBackground: true})
	check(err)
	check(e.WriteBatch([]flowdb.Record{{Key: []byte("cpu.a"), TS: 1, Value: []byte("42")}}))
	check(e.Flush(ctx))
	r, err := e.GetLatest([]byte("cpu.a"))
	check(err)
	if r == nil || string(r.Value) != "42" {
		log.Fatalf("read back %+v", r)
	}
	if _, err := flowdb.Open(filepath.Join(dir, "ts"), nil); !errors.Is(err, flowdb.ErrLocked) {
		log.Fatalf("second open: %v", err)
	}

	db, err := flowdb.OpenJSONDB(filepath.Join(dir, "docs"), nil)
	check(err)
	check(db.CreateObjectStore("notes", "id"))
	tx, err := db.Transaction(ctx, []string{"notes"}, true)
	check(err)
	_, err = tx.Put("notes", json.RawMessage(`{"id":1,"text":"hello"}`))
	check(err)
	check(tx.Commit())

	// Every handle is an io.Closer.
	for _, c := range []io.Closer{tx, db, e} {
		check(c.Close())
	}
	fmt.Printf("flowdb %s: the consumer module works\n", flowdb.Version())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
