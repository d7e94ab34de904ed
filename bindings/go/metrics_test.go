package flowdb

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// Constant labels go on every sample, escaped; bad label names are refused.
func TestMetricsLabels(t *testing.T) {
	e, err := Open(t.TempDir(), &Options{NoAutoBackground: true, MetricsLabels: []MetricsLabel{
		{Name: "db", Value: `sen"sors`}, {Name: "region", Value: "eu"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m, err := e.MetricsText()
	if err != nil {
		t.Fatal(err)
	}
	samples := 0
	for _, line := range strings.Split(m, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		samples++
		if !strings.Contains(line, `{db="sen\"sors",region="eu"`) {
			t.Fatalf("a sample without the labels: %q", line)
		}
	}
	if samples == 0 {
		t.Fatal("no samples")
	}
	for _, bad := range []string{"__reserved", "1abc", "le"} {
		_, err := Open(t.TempDir(), &Options{MetricsLabels: []MetricsLabel{{Name: bad, Value: "x"}}})
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("label name %q: %v", bad, err)
		}
	}
}

// Memtables charged to the block cache: its capacity (a gauge) falls as they fill
// and comes back when a flush empties them.
func TestMemtablesInBlockCache(t *testing.T) {
	cacheMB := uint64(16)
	e, err := Open(t.TempDir(), &Options{NoAutoBackground: true, BlockCacheCapacityMB: &cacheMB, MemtablesInBlockCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	metric := func(name string) float64 {
		m, err := e.MetricsText()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(m, "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		}
		t.Fatalf("%s missing from the metrics", name)
		return 0
	}
	const mib = 1 << 20
	if c := metric("flowdb_block_cache_capacity_bytes"); c != 16*mib {
		t.Fatalf("capacity %v before any write", c)
	}
	value := []byte(strings.Repeat("v", 255))
	for i := 0; i < 20000; i++ {
		if err := e.WriteBatch([]Record{{Key: []byte(fmt.Sprintf("s%03d", i%100)), TS: int64(i), Value: value}}); err != nil {
			t.Fatal(err)
		}
	}
	mem, c := metric("flowdb_memtable_bytes"), metric("flowdb_block_cache_capacity_bytes")
	if mem < 2*mib || math.Abs(c-(16*mib-mem)) > mib {
		t.Fatalf("capacity %v with memtables of %v", c, mem)
	}
	if err := e.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c := metric("flowdb_block_cache_capacity_bytes"); c != 16*mib {
		t.Fatalf("capacity %v after a flush", c)
	}
}
