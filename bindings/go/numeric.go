package flowdb

// Numeric series (docs/numeric.md): points written as numbers, and their aggregation
// per series (or group of series) and time bucket.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// Point is one numeric point of a series: Key, TS (microseconds since the Unix
// epoch), ExpireAt (0 or NeverExpires: no expiry of its own, the default TTL
// applies) and Value. It is stored as a record whose value is the float64's 8 bytes,
// little-endian, and every read returns it as that record, bit for bit (NaN payloads,
// -0.0, infinities and subnormals included); Record.Float64 reads it back.
type Point struct {
	Key      []byte
	TS       int64
	ExpireAt int64
	Value    float64
}

// Float64 is the number a numeric point's record holds: its Value read as a float64
// (8 bytes, little-endian), and ok = false when the Value is not 8 bytes long.
// Whether the record was written as a point is not checked: an 8-byte value of bytes
// reads as some number too (Iterator.IsPoint tells them apart in a scan).
func (r Record) Float64() (v float64, ok bool) {
	if len(r.Value) != 8 {
		return 0, false
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(r.Value)), true
}

// cPoints copies points into one C allocation (keys included), so no Go pointer is
// handed to C; free the returned block with C.free.
func cPoints(points []Point) (*C.flowdb_point_t, unsafe.Pointer) {
	if len(points) == 0 {
		return nil, nil
	}
	size := len(points) * C.sizeof_flowdb_point_t
	data := 0
	for _, p := range points {
		data += len(p.Key)
	}
	block := C.malloc(C.size_t(size + data + 1))
	views := unsafe.Slice((*C.flowdb_point_t)(block), len(points))
	bytes := unsafe.Slice((*byte)(unsafe.Add(block, size)), data+1)
	off := 0
	for i, p := range points {
		k := copy(bytes[off:], p.Key)
		views[i].key = (*C.uint8_t)(unsafe.Pointer(&bytes[off]))
		views[i].key_len = C.size_t(k)
		off += k
		views[i].ts = C.int64_t(p.TS)
		views[i].expire_at = C.int64_t(p.ExpireAt) // 0: never (the C API's rule)
		views[i].value = C.double(p.Value)
	}
	return (*C.flowdb_point_t)(block), block
}

// WritePoints writes numeric points atomically (all or none, also across a crash),
// as WriteBatch writes records; each keeps its own ExpireAt (0: the default TTL, if
// any). A point overwrites a record at the same (key, ts) and the other way round.
func (e *Engine) WritePoints(points []Point) error {
	return e.handle(func(h *C.flowdb_engine_t) error {
		v, block := cPoints(points)
		defer C.free(block)
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_write_points(h, v, C.size_t(len(points)), &cerr), cerr)
	})
}

// PutPoint adds a put of the numeric point p. Its ExpireAt is kept; 0 (or
// NeverExpires) means "no expiry of its own".
func (b *WriteBatch) PutPoint(p Point) *WriteBatch {
	b.ops = append(b.ops, batchOp{kind: 6, point: p})
	return b
}

// PutPointTTL adds a put of the numeric point p expiring ttlSecs seconds after its TS.
func (b *WriteBatch) PutPointTTL(p Point, ttlSecs uint64) *WriteBatch {
	b.ops = append(b.ops, batchOp{kind: 7, point: p, ttl: ttlSecs})
	return b
}

// addPoint copies a point operation into the C batch.
func (op *batchOp) addPoint(cb *C.flowdb_write_batch_t, cerr **C.flowdb_error_t) uint32 {
	v, block := cPoints([]Point{op.point})
	defer C.free(block)
	if op.kind == 6 {
		return C.flowdb_write_batch_put_point(cb, v, cerr)
	}
	return C.flowdb_write_batch_put_point_ttl(cb, v, C.uint64_t(op.ttl), cerr)
}

// Agg is an aggregate function of Engine.Aggregate, over the points of one series
// (or group) in one time bucket. docs/numeric.md has each one's rules, NaN included.
type Agg int32

const (
	// AggCount is how many points.
	AggCount Agg = C.FLOWDB_AGG_COUNT
	// AggSum is their sum (NaN if any is).
	AggSum Agg = C.FLOWDB_AGG_SUM
	// AggMin is the smallest (NaNs skipped).
	AggMin Agg = C.FLOWDB_AGG_MIN
	// AggMax is the largest (NaNs skipped).
	AggMax Agg = C.FLOWDB_AGG_MAX
	// AggAvg is sum / count.
	AggAvg Agg = C.FLOWDB_AGG_AVG
	// AggFirst is the value of the point with the lowest TS.
	AggFirst Agg = C.FLOWDB_AGG_FIRST
	// AggLast is the value of the point with the highest TS.
	AggLast Agg = C.FLOWDB_AGG_LAST
	// AggIncrease is a counter's growth over the bucket, resets counted (Prometheus's
	// rule, no extrapolation); 0 for one point.
	AggIncrease Agg = C.FLOWDB_AGG_INCREASE
	// AggRate is AggIncrease per second between the bucket's first and last point;
	// NaN for one point.
	AggRate Agg = C.FLOWDB_AGG_RATE
)

// String is the function's name as the CLI and every binding spell it: "count",
// "sum", "min", "max", "avg", "first", "last", "increase", "rate"; "Agg(N)" for a
// number that is none.
func (a Agg) String() string {
	if name := C.flowdb_agg_name(C.int32_t(a)); name != nil {
		return C.GoString(name)
	}
	return fmt.Sprintf("Agg(%d)", int32(a))
}

// ParseAgg is the function named name (as Agg.String spells it); an unknown name is
// ErrInvalidArgument.
func ParseAgg(name string) (Agg, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return 0, newError(CodeInvalidArgument, fmt.Sprintf("invalid argument: %q is not an aggregate function", name))
	}
	var a C.int32_t
	err := withStr([]string{"name"}, []string{name}, func(s []*C.char) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_agg_from_name(s[0], &a, &cerr), cerr)
	})
	return Agg(a), err
}

// GroupBy says how Engine.AggregateBy groups series: the points of a group's series
// in one bucket are aggregated together, under the group's key. Make one with
// GroupSeries, GroupAll, GroupPrefix or GroupUpToLast. Across series, AggFirst and
// AggLast are the earliest and latest point of any of them (a tie goes to the lowest
// key), and AggIncrease and AggRate are the sums of each series' own.
type GroupBy struct {
	kind   int32
	prefix int
	sep    byte
}

// GroupSeries is each series alone (what Aggregate does).
func GroupSeries() GroupBy { return GroupBy{kind: C.FLOWDB_GROUP_SERIES} }

// GroupAll is every series together: one group per bucket, its key empty.
func GroupAll() GroupBy { return GroupBy{kind: C.FLOWDB_GROUP_ALL} }

// GroupPrefix groups series whose keys begin with the same n bytes; the group's key
// is those bytes (a shorter key is a group of its own). A negative n makes the
// aggregation fail with ErrInvalidArgument.
func GroupPrefix(n int) GroupBy { return GroupBy{kind: C.FLOWDB_GROUP_PREFIX, prefix: n} }

// GroupUpToLast groups series whose keys agree up to and including their last b:
// with '.', cpu.host1.user and cpu.host1.system are the group "cpu.host1.". A key
// without b is a group of its own.
func GroupUpToLast(b byte) GroupBy { return GroupBy{kind: C.FLOWDB_GROUP_UP_TO_LAST, sep: b} }

// c is the C form of the grouping.
func (g GroupBy) c() (C.flowdb_group_t, error) {
	if g.prefix < 0 {
		return C.flowdb_group_t{}, newError(CodeInvalidArgument, fmt.Sprintf("invalid argument: group prefix length %d is negative", g.prefix))
	}
	return C.flowdb_group_t{kind: C.int32_t(g.kind), prefix_len: C.size_t(g.prefix), byte: C.uint8_t(g.sep)}, nil
}

// Bucket is one series' (or group's) points in one time bucket, aggregated: the
// bucket holds the points with Start <= TS < Start + step (Start a multiple of step,
// math.MinInt64 for the lowest bucket), and Values[i] is the i-th function asked for.
type Bucket struct {
	Key    []byte
	Start  int64
	Values []float64
}

// goBuckets copies a C bucket list into Go memory and frees it.
func goBuckets(list *C.flowdb_buckets_t) []Bucket {
	defer C.flowdb_buckets_free(list)
	n := int(C.flowdb_buckets_len(list))
	out := make([]Bucket, 0, n)
	for i := 0; i < n; i++ {
		var v C.flowdb_bucket_view_t
		C.flowdb_buckets_at(list, C.size_t(i), &v, nil)
		values := make([]float64, int(v.n_values))
		copy(values, unsafe.Slice((*float64)(unsafe.Pointer(v.values)), int(v.n_values)))
		out = append(out, Bucket{
			Key:    C.GoBytes(unsafe.Pointer(v.key), C.int(v.key_len)),
			Start:  int64(v.start),
			Values: values,
		})
	}
	return out
}

// aggregateArgs runs f with the C forms of an aggregation's arguments: the range
// (freed when f returns), the functions (Go memory holding no Go pointer, which cgo
// lets C read during the call) and the grouping.
func aggregateArgs(r Range, functions []Agg, group GroupBy, f func(cr *C.flowdb_range_t, fs *C.int32_t, n C.size_t, g *C.flowdb_group_t) error) error {
	g, err := group.c()
	if err != nil {
		return err
	}
	fs := make([]C.int32_t, len(functions))
	for i, a := range functions {
		fs[i] = C.int32_t(a)
	}
	return withRange(r, func(cr *C.flowdb_range_t) error {
		return f(cr, unsafe.SliceData(fs), C.size_t(len(fs)), &g)
	})
}

// Aggregate returns the numeric points in r (its keys and times, its order and
// limit) aggregated per series and per time bucket of step microseconds, aligned to
// TS 0: one Bucket per series and bucket that holds a point, in (key, start) order
// (descending with r.Reverse()), at most r's Limit of buckets; Values[i] is
// functions[i]. Records of bytes are left out, even 8-byte ones. step <= 0, no
// function, or a number that is no Agg is ErrInvalidArgument.
func (e *Engine) Aggregate(r Range, step int64, functions ...Agg) ([]Bucket, error) {
	return e.AggregateBy(r, step, GroupSeries(), functions...)
}

// AggregateBy is Aggregate with the series grouped by group: one Bucket per group and
// time bucket, keyed by the group's key, in (group key, start) order. Groups are
// gathered in memory before the first is returned.
func (e *Engine) AggregateBy(r Range, step int64, group GroupBy, functions ...Agg) ([]Bucket, error) {
	var out []Bucket
	err := aggregateArgs(r, functions, group, func(cr *C.flowdb_range_t, fs *C.int32_t, n C.size_t, g *C.flowdb_group_t) error {
		return e.handle(func(h *C.flowdb_engine_t) error {
			var list *C.flowdb_buckets_t
			var cerr *C.flowdb_error_t
			if err := check(C.flowdb_engine_aggregate_by(h, cr, C.int64_t(step), fs, n, g, &list, &cerr), cerr); err != nil {
				return err
			}
			out = goBuckets(list)
			return nil
		})
	})
	return out, err
}

// Aggregate is Engine.Aggregate as of the snapshot.
func (s *Snapshot) Aggregate(r Range, step int64, functions ...Agg) ([]Bucket, error) {
	return s.AggregateBy(r, step, GroupSeries(), functions...)
}

// AggregateBy is Engine.AggregateBy as of the snapshot.
func (s *Snapshot) AggregateBy(r Range, step int64, group GroupBy, functions ...Agg) ([]Bucket, error) {
	var out []Bucket
	err := aggregateArgs(r, functions, group, func(cr *C.flowdb_range_t, fs *C.int32_t, n C.size_t, g *C.flowdb_group_t) error {
		return s.handle(func(p *C.flowdb_snapshot_t) error {
			var list *C.flowdb_buckets_t
			var cerr *C.flowdb_error_t
			if err := check(C.flowdb_snapshot_aggregate_by(p, cr, C.int64_t(step), fs, n, g, &list, &cerr), cerr); err != nil {
				return err
			}
			out = goBuckets(list)
			return nil
		})
	})
	return out, err
}
