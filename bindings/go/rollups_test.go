package flowdb

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const minute = 60 * sec

func rollupEngine(t *testing.T, dir string) *Engine {
	t.Helper()
	zero := int64(0)
	e, err := Open(dir, &Options{NoAutoBackground: true, Rollups: []RollupRule{{
		Name: "1m", Prefix: []byte("cpu."), Step: minute, Delay: &zero,
		Functions: []Agg{AggCount, AggSum, AggMin, AggMax, AggFirst, AggLast},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A rule rolls on RunRollups; its points read back, aggregate, and follow a late
// point; a reopen keeps the watermark.
func TestRollups(t *testing.T) {
	dir := t.TempDir()
	e := rollupEngine(t, dir)
	if wm, err := e.RollupWatermark("1m"); err != nil || wm != math.MinInt64 {
		t.Fatalf("watermark before a run: %d %v", wm, err)
	}
	var pts []Point
	for i := int64(0); i < 180; i++ {
		pts = append(pts, pt("cpu.a", i*sec, float64(i)))
	}
	pts = append(pts, pt("mem.a", 0, 1))
	if err := e.WritePoints(pts); err != nil {
		t.Fatal(err)
	}
	if err := e.RunRollups(); err != nil {
		t.Fatal(err)
	}
	wm, err := e.RollupWatermark("1m")
	if err != nil || wm < 3*minute {
		t.Fatalf("watermark %d %v", wm, err)
	}
	maxima, err := e.RollupQuery("1m", Prefix([]byte("max:")))
	if err != nil || len(maxima) != 3 {
		t.Fatalf("maxima %v %v", maxima, err)
	}
	if v, ok := maxima[1].Float64(); !ok || v != 119 || string(maxima[1].Key) != "max:cpu.a" || maxima[1].TS != minute {
		t.Fatalf("maxima[1] = %+v", maxima[1])
	}
	all, err := e.RollupQuery("1m", All())
	if err != nil || len(all) != 18 {
		t.Fatalf("every rolled point: %d %v", len(all), err)
	}
	hourly, err := e.RollupAggregate("1m", Prefix([]byte("count:")), 60*minute, AggSum)
	if err != nil {
		t.Fatal(err)
	}
	bucketsAre(t, hourly, Bucket{Key: []byte("count:cpu.a"), Start: 0, Values: []float64{180}})
	byAll, err := e.RollupAggregateBy("1m", Prefix([]byte("last:")), 60*minute, GroupAll(), AggLast)
	if err != nil {
		t.Fatal(err)
	}
	bucketsAre(t, byAll, Bucket{Key: []byte{}, Start: 0, Values: []float64{179}})
	// A late point, re-rolled by the next run.
	if err := e.WritePoints([]Point{pt("cpu.a", 0, -5)}); err != nil {
		t.Fatal(err)
	}
	if err := e.RunRollups(); err != nil {
		t.Fatal(err)
	}
	firsts, err := e.RollupQuery("1m", Prefix([]byte("first:")).Limit(1))
	if v, _ := firsts[0].Float64(); err != nil || v != -5 {
		t.Fatalf("first after the late point: %v %v", firsts, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rollups", "1m")); err != nil {
		t.Fatal(err)
	}
	e = rollupEngine(t, dir)
	defer e.Close()
	if again, err := e.RollupWatermark("1m"); err != nil || again != wm {
		t.Fatalf("watermark after a reopen: %d, want %d (%v)", again, wm, err)
	}
}

// Bad rules and unknown names are errors naming them.
func TestRollupErrors(t *testing.T) {
	for _, c := range []struct {
		rule  RollupRule
		words string
	}{
		{RollupRule{Name: "a/b", Step: minute, Functions: []Agg{AggMax}}, "rollups[0]"},
		{RollupRule{Name: "a", Step: 0, Functions: []Agg{AggMax}}, "step"},
		{RollupRule{Name: "a", Step: minute, Functions: []Agg{AggAvg}}, "functions[0] = avg"},
		{RollupRule{Name: "a", Step: minute, Functions: []Agg{Agg(42)}}, "functions[0] is 42"},
		{RollupRule{Name: "a", Step: minute}, "functions is empty"},
	} {
		_, err := Open(t.TempDir(), &Options{NoAutoBackground: true, Rollups: []RollupRule{c.rule}})
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), c.words) {
			t.Errorf("%+v: %v (want %q)", c.rule, err, c.words)
		}
	}
	e, err := Open(t.TempDir(), &Options{NoAutoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.RunRollups(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.RollupWatermark("1m"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown rollup: %v", err)
	}
	if _, err := e.RollupAggregate("1m", All(), minute, AggMax); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown rollup: %v", err)
	}
}
