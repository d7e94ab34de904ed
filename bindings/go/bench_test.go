package flowdb

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// The workload of flowdb-bench, through Go: batches of 100 records with 128-byte
// values; gets over 1,000 series x 1,000 points after flush and compaction.
// Compare with the C-API figures of `cargo run --release --example flowdb-bench`.

func benchValue(i int) []byte {
	v := []byte(fmt.Sprintf("v=%d.%03d;", i%10000, i%1000))
	for len(v) < 32 {
		v = append(v, ' ')
	}
	for len(v) < 128 {
		v = append(v, 't')
	}
	return v
}

func benchKey(s int) []byte { return []byte(fmt.Sprintf("cpu.host-%05d.usage", s)) }

func BenchmarkWriteBatch100(b *testing.B) {
	e, err := Open(b.TempDir(), &Options{SyncMode: SyncInterval, SyncIntervalMs: 1000})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	batch := make([]Record, 100)
	for i := range batch {
		batch[i] = Record{Key: benchKey(i), Value: benchValue(i)}
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range batch {
			batch[i].TS = int64(n) * 1_000_000
		}
		if err := e.WriteBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
}

var (
	getOnce   sync.Once
	getEngine *Engine
)

func BenchmarkGet(b *testing.B) {
	const series, points = 1000, 1000
	getOnce.Do(func() {
		e, err := Open(b.TempDir(), &Options{SyncMode: SyncInterval, SyncIntervalMs: 1000})
		if err != nil {
			b.Fatal(err)
		}
		batch := make([]Record, 0, 100)
		for p := 0; p < points; p++ {
			for s := 0; s < series; s++ {
				batch = append(batch, Record{Key: benchKey(s), TS: int64(p) * 1_000_000, Value: benchValue(p*series + s)})
				if len(batch) == 100 {
					if err := e.WriteBatch(batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
		}
		if err := e.Flush(b.Context()); err != nil {
			b.Fatal(err)
		}
		if _, err := e.TriggerCompaction(b.Context()); err != nil {
			b.Fatal(err)
		}
		getEngine = e
	})
	keys := make([][]byte, series)
	for s := range keys {
		keys[s] = benchKey(s)
	}
	r := rand.New(rand.NewPCG(42, 42))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		rec, err := getEngine.Get(keys[r.IntN(series)], int64(r.IntN(points))*1_000_000)
		if err != nil || rec == nil {
			b.Fatal("get failed", err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// Ids of 10,000 of 100,000 documents from an index, as JSON (GetAllKeysByIndex)
// and typed (GetAllKeysByIndexTyped), summed so both read every key.
func BenchmarkGetAllKeysByIndex(b *testing.B) {
	db, err := OpenJSONDB(b.TempDir(), &Options{SyncMode: SyncInterval, SyncIntervalMs: 1000})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateStore(json.RawMessage(`{"name":"users","keyPath":"id","indexes":[{"name":"age","keyPath":"age"}]}`)); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100_000; i += 100 {
		tx, err := db.Transaction(b.Context(), []string{"users"}, true)
		if err != nil {
			b.Fatal(err)
		}
		for j := i; j < i+100; j++ {
			if _, err := tx.Put("users", json.RawMessage(fmt.Sprintf(`{"id":%d,"age":%d}`, j, 18+j*7919%60))); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	six := IndexRange{Lower: &KeyBound{Key: json.RawMessage("30")}, Upper: &KeyBound{Key: json.RawMessage("35")}}
	b.Run("json", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			keys, err := db.GetAllKeysByIndex("users", "age", six, 0)
			if err != nil {
				b.Fatal(err)
			}
			sum := 0.0
			for _, k := range keys {
				var f float64
				if err := json.Unmarshal(k, &f); err != nil {
					b.Fatal(err)
				}
				sum += f
			}
		}
	})
	b.Run("typed", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			keys, err := db.GetAllKeysByIndexTyped("users", "age", six, 0)
			if err != nil {
				b.Fatal(err)
			}
			sum := 0.0
			for _, k := range keys {
				sum += k.Number
			}
		}
	})
}
