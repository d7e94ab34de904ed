package flowdb

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

const sec = int64(1_000_000)

// specialBits are float64 values that must come back bit for bit: NaNs with payloads
// (quiet, negative, signalling), -0.0, the infinities, subnormals.
var specialBits = []uint64{
	0x7ff8000000000001, 0xfff80000deadbeef, 0x7ff0000000000001, 0x8000000000000000,
	0x7ff0000000000000, 0xfff0000000000000, 0x0000000000000001, 0x000fffffffffffff,
}

func pt(key string, ts int64, v float64) Point { return Point{Key: []byte(key), TS: ts, Value: v} }

// holds: r's value is the 8 bytes of bits, little-endian, and Float64 reads them back.
func holds(r *Record, bits uint64) bool {
	if r == nil || len(r.Value) != 8 || binary.LittleEndian.Uint64(r.Value) != bits {
		return false
	}
	v, ok := r.Float64()
	return ok && math.Float64bits(v) == bits
}

// Points written with WritePoints and in a WriteBatch come back bit for bit through
// Get, Query, Scan and a Snapshot, from the memtable and from a table; a point
// replaces a record of bytes at the same (key, ts); batch TTLs apply.
func TestPointsRoundTrip(t *testing.T) {
	e := open(t)
	var pts []Point
	var b WriteBatch
	for i, bits := range specialBits {
		pts = append(pts, pt("special", int64(i), math.Float64frombits(bits)))
		b.PutPoint(Point{Key: []byte("batched"), TS: int64(i), ExpireAt: NeverExpires, Value: math.Float64frombits(bits)})
	}
	mustOK(t, e.WritePoints(pts))
	mustOK(t, e.Write(&b, false))
	for round := 0; round < 2; round++ {
		snap, err := e.Snapshot()
		mustOK(t, err)
		for i, bits := range specialBits {
			r, err := e.Get([]byte("special"), int64(i))
			mustOK(t, err)
			if !holds(r, bits) || r.ExpireAt != NeverExpires {
				t.Fatalf("round %d: special@%d = %+v, want the bits %#x", round, i, r, bits)
			}
			r, err = snap.Get([]byte("batched"), int64(i))
			mustOK(t, err)
			if !holds(r, bits) {
				t.Fatalf("round %d: batched@%d = %+v, want the bits %#x", round, i, r, bits)
			}
		}
		recs, err := e.Query(Prefix([]byte("special")))
		mustOK(t, err)
		n := 0
		for i := range recs {
			if holds(&recs[i], specialBits[recs[i].TS]) {
				n++
			}
		}
		for r, err := range e.Scan(Prefix([]byte("batched"))) {
			mustOK(t, err)
			if holds(&r, specialBits[r.TS]) {
				n++
			}
		}
		if n != 2*len(specialBits) {
			t.Fatalf("round %d: %d of %d records hold their bits", round, n, 2*len(specialBits))
		}
		snap.Close()
		mustOK(t, e.Flush(t.Context()))
	}
	if _, ok := (Record{Value: []byte("abc")}).Float64(); ok {
		t.Fatal("a 3-byte value read as a number")
	}

	// A point replaces a record of bytes; an expiry of its own and batch TTLs.
	mustOK(t, e.WriteBatch([]Record{rec("mixed", 1, "abcdefgh")}))
	mustOK(t, e.WritePoints([]Point{pt("mixed", 1, -2.5)}))
	r, err := e.Get([]byte("mixed"), 1)
	mustOK(t, err)
	if !holds(r, math.Float64bits(-2.5)) {
		t.Fatalf("mixed@1 = %+v", r)
	}
	var tb WriteBatch
	tb.PutPointTTL(pt("ttl", 1, 1), 1).PutPoint(pt("ttl", 2, 2)).PutPoint(Point{Key: []byte("ttl"), TS: 3, ExpireAt: 4, Value: 3})
	mustOK(t, e.Write(&tb, true))
	kept, err := e.Query(Prefix([]byte("ttl")))
	mustOK(t, err)
	if len(kept) != 1 || kept[0].TS != 2 || !holds(&kept[0], math.Float64bits(2)) {
		t.Fatalf("ttl: %+v", kept)
	}
}

func bucketsAre(t *testing.T, got []Bucket, want ...Bucket) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("buckets:\n got %+v\nwant %+v", got, want)
	}
}

func bk(key string, start int64, values ...float64) Bucket {
	return Bucket{Key: []byte(key), Start: start, Values: values}
}

// Known results over one bucket (every function), a snapshot's view, several
// buckets and series, a reverse range with a limit, a time range, and records of
// bytes left out.
func TestAggregate(t *testing.T) {
	e := open(t)
	mustOK(t, e.WritePoints([]Point{pt("cpu.a", 0, 3), pt("cpu.a", 15*sec, 1), pt("cpu.a", 30*sec, 4), pt("cpu.a", 45*sec, 1)}))
	mustOK(t, e.WriteBatch([]Record{{Key: []byte("cpu.a"), TS: 50 * sec, Value: []byte{0, 0, 0, 0, 0, 0, 0, 0x40}}}))
	every := []Agg{AggCount, AggSum, AggMin, AggMax, AggAvg, AggFirst, AggLast, AggIncrease, AggRate}
	want := bk("cpu.a", 0, 4, 9, 1, 4, 2.25, 3, 1, 5, 5.0/45.0)
	got, err := e.Aggregate(Prefix([]byte("cpu.a")), 60*sec, every...)
	mustOK(t, err)
	bucketsAre(t, got, want)

	snap, err := e.Snapshot()
	mustOK(t, err)
	defer snap.Close()
	mustOK(t, e.WritePoints([]Point{pt("cpu.a", 59*sec, 100)}))
	got, err = snap.Aggregate(Prefix([]byte("cpu.a")), 60*sec, every...)
	mustOK(t, err)
	bucketsAre(t, got, want)
	got, err = snap.AggregateBy(Prefix([]byte("cpu.a")), 60*sec, GroupSeries(), every...)
	mustOK(t, err)
	bucketsAre(t, got, want)
	got, err = e.Aggregate(Prefix([]byte("cpu.a")), 60*sec, AggCount, AggLast)
	mustOK(t, err)
	bucketsAre(t, got, bk("cpu.a", 0, 5, 100))

	mustOK(t, e.WritePoints([]Point{pt("cpu.b", -1, 2), pt("cpu.b", 10*sec, 6), pt("cpu.b", 70*sec, 8)}))
	got, err = e.Aggregate(Prefix([]byte("cpu.")), 60*sec, AggSum)
	mustOK(t, err)
	bucketsAre(t, got, bk("cpu.a", 0, 109), bk("cpu.b", -60*sec, 2), bk("cpu.b", 0, 6), bk("cpu.b", 60*sec, 8))
	got, err = e.Aggregate(Prefix([]byte("cpu.")).Reverse().Limit(2), 60*sec, AggSum)
	mustOK(t, err)
	bucketsAre(t, got, bk("cpu.b", 60*sec, 8), bk("cpu.b", 0, 6))
	got, err = e.Aggregate(Prefix([]byte("cpu.")).WithTime(0, 30*sec), math.MaxInt64, AggSum)
	mustOK(t, err)
	bucketsAre(t, got, bk("cpu.a", 0, 8), bk("cpu.b", 0, 6))
	got, err = e.Aggregate(Prefix([]byte("none.")), 60*sec, AggSum)
	mustOK(t, err)
	bucketsAre(t, got)
}

// Series grouped up to their last '.', all together, and by a prefix.
func TestAggregateBy(t *testing.T) {
	e := open(t)
	mustOK(t, e.WritePoints([]Point{
		pt("cpu.h1.user", 0, 1), pt("cpu.h1.user", 10*sec, 2), pt("cpu.h1.sys", 5*sec, 10),
		pt("cpu.h2.user", 0, 7), pt("cpu.total", 0, 100),
	}))
	fns := []Agg{AggCount, AggSum, AggFirst, AggLast, AggMin, AggMax}
	got, err := e.AggregateBy(Prefix([]byte("cpu.")), 60*sec, GroupUpToLast('.'), fns...)
	mustOK(t, err)
	bucketsAre(t, got, bk("cpu.", 0, 1, 100, 100, 100, 100, 100), bk("cpu.h1.", 0, 3, 13, 1, 2, 1, 10), bk("cpu.h2.", 0, 1, 7, 7, 7, 7, 7))
	snap, err := e.Snapshot()
	mustOK(t, err)
	defer snap.Close()
	got, err = snap.AggregateBy(Prefix([]byte("cpu.")), 60*sec, GroupAll(), AggCount, AggSum)
	mustOK(t, err)
	bucketsAre(t, got, Bucket{Key: []byte{}, Start: 0, Values: []float64{5, 120}})
	got, err = e.AggregateBy(Prefix([]byte("cpu.")), 60*sec, GroupPrefix(6), AggCount)
	mustOK(t, err)
	bucketsAre(t, got, bk("cpu.h1", 0, 3), bk("cpu.h2", 0, 1), bk("cpu.to", 0, 1))
}

// invalid: err is ErrInvalidArgument and its message contains words.
func invalid(t *testing.T, err error, words string) {
	t.Helper()
	var fe *Error
	if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &fe) || !strings.Contains(fe.Msg, words) {
		t.Fatalf("got %v, want ErrInvalidArgument with %q", err, words)
	}
}

func TestNumericBadInput(t *testing.T) {
	e := open(t)
	mustOK(t, e.WritePoints([]Point{pt("k", 0, 1)}))
	mustOK(t, e.WritePoints(nil))
	_, err := e.Aggregate(All(), 0, AggSum)
	invalid(t, err, "step")
	_, err = e.Aggregate(All(), -1, AggSum)
	invalid(t, err, "step")
	_, err = e.Aggregate(All(), 60)
	invalid(t, err, "function")
	_, err = e.Aggregate(All(), 60, AggSum, Agg(42))
	invalid(t, err, "functions[1] is 42")
	_, err = e.AggregateBy(All(), 60, GroupAll(), Agg(-1))
	invalid(t, err, "functions[0] is -1")
	_, err = e.AggregateBy(All(), 60, GroupPrefix(-2), AggSum)
	invalid(t, err, "prefix length -2")
	_, err = e.Aggregate(All().Limit(-1), 60, AggSum)
	invalid(t, err, "limit -1")
	invalid(t, e.WritePoints([]Point{pt("", 0, 1)}), "key")
	var b WriteBatch
	invalid(t, e.Write(b.PutPoint(pt("", 0, 1)), false), "batch operation")

	for _, a := range []Agg{AggCount, AggSum, AggMin, AggMax, AggAvg, AggFirst, AggLast, AggIncrease, AggRate} {
		back, err := ParseAgg(a.String())
		mustOK(t, err)
		if back != a {
			t.Fatalf("ParseAgg(%q) = %v", a.String(), back)
		}
	}
	if AggIncrease.String() != "increase" || Agg(42).String() != "Agg(42)" {
		t.Fatalf("names: %s, %s", AggIncrease, Agg(42))
	}
	_, err = ParseAgg("median")
	invalid(t, err, `"median" is not an aggregate function`)
	_, err = ParseAgg("sum\x00")
	invalid(t, err, "is not an aggregate function")

	snap, err := e.Snapshot()
	mustOK(t, err)
	mustOK(t, e.Close())
	if err := e.WritePoints([]Point{pt("k", 1, 1)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("WritePoints after Close: %v", err)
	}
	if _, err := e.Aggregate(All(), 60, AggSum); !errors.Is(err, ErrClosed) {
		t.Fatalf("Aggregate after Close: %v", err)
	}
	if _, err := snap.Aggregate(All(), 60, AggSum); !errors.Is(err, ErrClosed) {
		t.Fatalf("snapshot Aggregate after its engine's Close: %v", err)
	}
	snap.Close()
	if _, err := snap.AggregateBy(All(), 60, GroupAll(), AggSum); !errors.Is(err, ErrClosed) {
		t.Fatalf("AggregateBy on a closed snapshot: %v", err)
	}
}

// Iterator.IsPoint: true for the points, false for 8 bytes written as bytes, before
// the first Next, at the end, after a Seek and after Close; through Next and All, from
// the memtable and from a table, forwards, in reverse and on a snapshot.
func TestIteratorIsPoint(t *testing.T) {
	e := open(t)
	mustOK(t, e.WritePoints([]Point{pt("iter", 1, 1.5), pt("iter", 3, math.Copysign(0, -1))}))
	mustOK(t, e.WriteBatch([]Record{rec("iter", 2, "abcdefgh")}))
	want := []bool{true, false, true}
	for round := 0; round < 2; round++ {
		it, err := e.NewIterator(All())
		mustOK(t, err)
		if it.IsPoint() {
			t.Fatalf("round %d: IsPoint before the first Next", round)
		}
		var got []bool
		for r, err := range it.All() {
			mustOK(t, err)
			if len(r.Value) != 8 {
				t.Fatalf("round %d: %+v", round, r)
			}
			got = append(got, it.IsPoint())
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: IsPoint %v, want %v", round, got, want)
		}
		if it.IsPoint() {
			t.Fatalf("round %d: IsPoint at the end", round)
		}
		mustOK(t, it.Seek([]byte("iter"), 3))
		if it.IsPoint() {
			t.Fatalf("round %d: IsPoint after a Seek", round)
		}
		if !it.Next() || it.Record().TS != 3 || !it.IsPoint() {
			t.Fatalf("round %d: after a seek to ts 3: %+v, IsPoint %v", round, it.Record(), it.IsPoint())
		}
		mustOK(t, it.Seek([]byte("iter"), 2))
		if !it.Next() || it.Record().TS != 2 || it.IsPoint() {
			t.Fatalf("round %d: after a seek to ts 2: %+v, IsPoint %v", round, it.Record(), it.IsPoint())
		}
		mustOK(t, it.Close())
		if it.IsPoint() || it.Next() || it.IsPoint() {
			t.Fatalf("round %d: IsPoint or Next after Close", round)
		}

		snap, err := e.Snapshot()
		mustOK(t, err)
		it, err = snap.NewIterator(All().Reverse())
		mustOK(t, err)
		got = got[:0]
		for it.Next() {
			got = append(got, it.IsPoint())
		}
		mustOK(t, it.Err())
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: reverse on a snapshot: IsPoint %v, want %v", round, got, want)
		}
		it.Close()
		snap.Close()
		mustOK(t, e.Flush(t.Context()))
	}
}

// A block of one series' points in a table keeps their statistics in its index
// entry: a bucket covering the block whole is folded from them, not read, and the
// stats count those points.
func TestAggregateFromBlockStatistics(t *testing.T) {
	e := open(t)
	const n = 5000
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = pt("m.x", int64(i)*sec, float64(i))
	}
	mustOK(t, e.WritePoints(pts))
	mustOK(t, e.Flush(context.Background()))
	got, err := e.Aggregate(Prefix([]byte("m.")), 86400*sec, AggCount, AggSum, AggMax, AggFirst)
	mustOK(t, err)
	bucketsAre(t, got, bk("m.x", 0, n, n*(n-1)/2, n-1, 0))
	st, err := e.Stats()
	mustOK(t, err)
	if st.TotalPointsAggregatedFromIndex < n/2 {
		t.Fatalf("%d points aggregated from block statistics, want most of %d", st.TotalPointsAggregatedFromIndex, n)
	}
}
