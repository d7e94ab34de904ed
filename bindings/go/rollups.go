package flowdb

// Downsampling rollups (docs/numeric.md, "Rollups"): rules in Options.Rollups, rolling
// on demand (RunRollups), and the reads of a rollup by its rule's name.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"strconv"
	"unsafe"
)

// RollupRule is a downsampling rule (Options.Rollups): every Step microseconds, the
// points of each series whose key begins with Prefix (empty: every series) are folded
// by each of Functions (AggCount, AggSum, AggMin, AggMax, AggFirst, AggLast: those
// that compose) and kept as points keyed "<function>:<raw key>" (AggMax.String()+":"+
// key) at each bucket's start, in <dir>/rollups/<Name>/. KeepSecs is the rollup's own
// retention by age (0: forever); Delay is how long after a bucket's end it is rolled,
// in microseconds (nil: one Step). A bad rule makes Open fail with
// ErrInvalidArgument naming it.
type RollupRule struct {
	Name      string
	Prefix    []byte
	Step      int64
	Functions []Agg
	KeepSecs  uint64
	Delay     *int64
}

// addRollup adds r, Options.Rollups[i], to the C options p (its strings and arrays
// copied to C memory for the call).
func addRollup(p *C.flowdb_options_t, i int, r RollupRule) error {
	return withStr([]string{"Options.Rollups[" + strconv.Itoa(i) + "].Name"}, []string{r.Name}, func(name []*C.char) error {
		var cerr *C.flowdb_error_t
		return check(addRollupNamed(p, name[0], r, &cerr), cerr)
	})
}

// addRollupNamed is addRollup with the rule's name in C form.
func addRollupNamed(p *C.flowdb_options_t, name *C.char, r RollupRule, cerr **C.flowdb_error_t) uint32 {
	var rule C.flowdb_rollup_rule_t
	rule.name = name
	if len(r.Prefix) > 0 {
		prefix := C.CBytes(r.Prefix)
		defer C.free(prefix)
		rule.prefix = (*C.uint8_t)(prefix)
		rule.prefix_len = C.size_t(len(r.Prefix))
	}
	if len(r.Functions) > 0 {
		fs := (*C.int32_t)(C.malloc(C.size_t(len(r.Functions)) * 4))
		defer C.free(unsafe.Pointer(fs))
		for i, a := range r.Functions {
			unsafe.Slice(fs, len(r.Functions))[i] = C.int32_t(a)
		}
		rule.functions = fs
		rule.n_functions = C.size_t(len(r.Functions))
	}
	rule.step = C.int64_t(r.Step)
	rule.keep_secs = C.uint64_t(r.KeepSecs)
	rule.delay = -1
	if r.Delay != nil {
		rule.delay = C.int64_t(*r.Delay)
	}
	return C.flowdb_options_add_rollup(p, &rule, cerr)
}

// RunRollups rolls every rule's due buckets and re-rolls the dirty ones now
// (background maintenance does it every round): for engines opened with
// NoAutoBackground. Nothing to do without rules.
func (e *Engine) RunRollups() error {
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_run_rollups(h, &cerr), cerr)
	})
}

// RollupWatermark is the rollup name's watermark: every bucket ending at or before
// it is rolled (math.MinInt64: none yet). An unknown name is ErrNotFound.
func (e *Engine) RollupWatermark(name string) (int64, error) {
	var wm C.int64_t
	err := withName(name, func(n *C.char) error {
		return e.handle(func(h *C.flowdb_engine_t) error {
			var cerr *C.flowdb_error_t
			return check(C.flowdb_engine_rollup_watermark(h, n, &wm, &cerr), cerr)
		})
	})
	return int64(wm), err
}

// withName passes a rollup's name, the argument name, to C (ErrInvalidArgument when
// it holds a NUL byte, as withStr).
func withName(name string, f func(n *C.char) error) error {
	return withStr([]string{"name"}, []string{name}, func(n []*C.char) error { return f(n[0]) })
}

// RollupQuery returns the rolled points of the rollup name in r (as Query: its
// order and limit apply), keyed "<function>:<raw key>" at each bucket's start;
// Record.Float64 reads each value.
func (e *Engine) RollupQuery(name string, r Range) ([]Record, error) {
	var recs []Record
	err := withName(name, func(n *C.char) error {
		return withRange(r, func(cr *C.flowdb_range_t) error {
			var err error
			recs, err = e.list(func(h *C.flowdb_engine_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
				return C.flowdb_engine_rollup_query(h, n, cr, o, c)
			})
			return err
		})
	})
	return recs, err
}

// RollupAggregate is Aggregate on the rollup name: Prefix("max:cpu."), an hour and
// AggMax give the maximum per hour from the rolled maxima.
func (e *Engine) RollupAggregate(name string, r Range, step int64, functions ...Agg) ([]Bucket, error) {
	return e.RollupAggregateBy(name, r, step, GroupSeries(), functions...)
}

// RollupAggregateBy is AggregateBy on the rollup name.
func (e *Engine) RollupAggregateBy(name string, r Range, step int64, group GroupBy, functions ...Agg) ([]Bucket, error) {
	var out []Bucket
	err := withName(name, func(n *C.char) error {
		return aggregateArgs(r, functions, group, func(cr *C.flowdb_range_t, fs *C.int32_t, nf C.size_t, g *C.flowdb_group_t) error {
			return e.handle(func(h *C.flowdb_engine_t) error {
				var list *C.flowdb_buckets_t
				var cerr *C.flowdb_error_t
				if err := check(C.flowdb_engine_rollup_aggregate_by(h, n, cr, C.int64_t(step), fs, nf, g, &list, &cerr), cerr); err != nil {
					return err
				}
				out = goBuckets(list)
				return nil
			})
		})
	})
	return out, err
}
