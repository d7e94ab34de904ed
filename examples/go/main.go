// flowdb Go quickstart: the time-series tour (write, latest point, a time window, a
// lazy scan, stats) and the JSONDB tour (a store with indexes, documents in a
// transaction, an index lookup, a query). Usage: go run . [DATA_DIR]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	flowdb "github.com/flowdb/flowdb/bindings/go"
)

func main() {
	dir := "./data-go"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	timeSeries(filepath.Join(dir, "ts"))
	documents(filepath.Join(dir, "docs"))
}

func timeSeries(dir string) {
	e, err := flowdb.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	start := time.Now().Add(-time.Minute).UnixMicro()
	var batch []flowdb.Record
	for h := 1; h <= 3; h++ {
		for i := int64(0); i < 60; i++ {
			batch = append(batch, flowdb.Record{
				Key:   []byte(fmt.Sprintf("cpu.host-%d.usage", h)),
				TS:    start + i*1_000_000,
				Value: []byte(fmt.Sprintf("%d.5", 40+i%7)),
			})
		}
	}
	if err := e.WriteBatch(batch); err != nil {
		log.Fatal(err)
	}
	if r, err := e.GetLatest([]byte("cpu.host-2.usage")); err == nil && r != nil {
		fmt.Printf("latest %s at %d: %s\n", r.Key, r.TS, r.Value)
	}
	window, err := e.Query(flowdb.TimeRange(start+10_000_000, start+19_000_000))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("10-second window across all series: %d records\n", len(window))
	n := 0
	for _, err := range e.Scan(flowdb.Prefix([]byte("cpu.host-1."))) {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Printf("scanned %d points of cpu.host-1\n", n)
	if err := e.Flush(context.Background()); err != nil {
		log.Fatal(err)
	}
	st, _ := e.Stats()
	fmt.Printf("stats: %d records written, %d tables\n", st.TotalRecordsWritten, st.SSTableCount)
}

type user struct {
	ID    int    `json:"id,omitempty"`
	Email string `json:"email"`
	Age   int    `json:"age"`
	City  string `json:"city"`
}

func documents(dir string) {
	db, err := flowdb.OpenJSONDB(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if def, _ := db.GetStore("users"); def == nil {
		err := db.CreateStore(json.RawMessage(`{"name":"users","keyPath":"id","autoIncrement":true,
			"indexes":[{"name":"email","keyPath":"email","unique":true},{"name":"city_age","keyPath":["city","age"]}]}`))
		if err != nil {
			log.Fatal(err)
		}
	}
	tx, err := db.Transaction(context.Background(), []string{"users"}, true)
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range []user{{Email: "ada@example.com", Age: 36, City: "London"}, {Email: "linus@example.com", Age: 28, City: "Helsinki"}, {Email: "grace@example.com", Age: 45, City: "London"}} {
		doc, _ := json.Marshal(u)
		if _, err := tx.PutAuto("users", doc); err != nil && !errors.Is(err, flowdb.ErrConstraint) {
			log.Fatal(err) // ErrConstraint: stored by an earlier run
		}
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	if err := tx.Close(); err != nil {
		log.Fatal(err)
	}
	byEmail, _ := db.GetByIndex("users", "email", json.RawMessage(`"grace@example.com"`))
	fmt.Printf("by email: %s\n", byEmail)
	london, err := db.Query("users").WhereEq("city", json.RawMessage(`"London"`)).OrderBy("age", false).Collect(db)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("London by age: %s\n", london)
	n, _ := db.Count("users")
	fmt.Printf("%d users (flowdb %s)\n", n, flowdb.Version())
}
