package flowdb

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import "math"

// WriteBatch gathers puts (of records and of numeric points), deletes, range deletes
// and deletes by time that Engine.Write applies atomically (all or none, also across
// a crash), in order. It holds only Go values, so it may be written any number of
// times and needs no Close. Not safe for concurrent changes; Write may run from
// several goroutines at once.
type WriteBatch struct {
	ops []batchOp
}

type batchOp struct {
	kind     int // 0 put, 1 put with TTL, 2 delete, 3 range delete, 4 time range delete, 5 prefix delete before rec.TS, 6 point, 7 point with TTL
	rec      Record
	point    Point // kinds 6 and 7 (numeric.go)
	ttl      uint64
	from, to []byte
	tsLo     int64 // kind 4
	tsHi     int64 // kind 4
}

// Put adds a put of r. Its ExpireAt is kept; 0 (or NeverExpires) means "no expiry of
// its own" (the default TTL applies, if any).
func (b *WriteBatch) Put(r Record) *WriteBatch {
	b.ops = append(b.ops, batchOp{kind: 0, rec: r})
	return b
}

// PutTTL adds a put of r expiring ttlSecs seconds after its TS.
func (b *WriteBatch) PutTTL(r Record, ttlSecs uint64) *WriteBatch {
	b.ops = append(b.ops, batchOp{kind: 1, rec: r, ttl: ttlSecs})
	return b
}

// Delete adds a delete of the record (key, ts).
func (b *WriteBatch) Delete(key []byte, ts int64) *WriteBatch {
	b.ops = append(b.ops, batchOp{kind: 2, rec: Record{Key: key, TS: ts}})
	return b
}

// DeleteRange adds a delete of every record with start <= key < end (half-open).
func (b *WriteBatch) DeleteRange(start, end []byte) *WriteBatch {
	b.ops = append(b.ops, batchOp{kind: 3, from: start, to: end})
	return b
}

// DeleteTimeRange adds a delete of every record with start <= key < end (half-open)
// and tsStart <= ts <= tsEnd (inclusive), as Engine.DeleteTimeRange. start > end or
// tsStart > tsEnd makes Write fail with ErrInvalidArgument.
func (b *WriteBatch) DeleteTimeRange(start, end []byte, tsStart, tsEnd int64) *WriteBatch {
	b.ops = append(b.ops, batchOp{kind: 4, from: start, to: end, tsLo: tsStart, tsHi: tsEnd})
	return b
}

// DeleteBefore adds a delete of every record with a TS below ts, as
// Engine.DeleteBefore. math.MinInt64 deletes nothing and adds no operation.
func (b *WriteBatch) DeleteBefore(ts int64) *WriteBatch {
	return b.DeletePrefixBefore(nil, ts)
}

// DeletePrefixBefore adds a delete of every record whose key begins with prefix and
// whose TS is below ts. math.MinInt64 deletes nothing and adds no operation.
func (b *WriteBatch) DeletePrefixBefore(prefix []byte, ts int64) *WriteBatch {
	if ts != math.MinInt64 { // as the C batch, so operation numbers in errors agree
		b.ops = append(b.ops, batchOp{kind: 5, from: prefix, rec: Record{TS: ts}})
	}
	return b
}

// Len is how many operations the batch holds.
func (b *WriteBatch) Len() int { return len(b.ops) }

// Reset removes every operation.
func (b *WriteBatch) Reset() { b.ops = b.ops[:0] }

// Write applies b atomically; with sync, durable on stable storage when it returns,
// whatever the sync mode. A bad operation fails the whole write (ErrInvalidArgument,
// naming "batch operation N") and nothing is written.
func (e *Engine) Write(b *WriteBatch, sync bool) error {
	cb := C.flowdb_write_batch_new()
	defer C.flowdb_write_batch_free(cb)
	for _, op := range b.ops {
		if err := op.add(cb); err != nil {
			return err
		}
	}
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_write(h, cb, C.bool(sync), &cerr), cerr)
	})
}

// add copies the operation into the C batch (which copies it again and keeps
// nothing of ours).
func (op *batchOp) add(cb *C.flowdb_write_batch_t) error {
	var cerr *C.flowdb_error_t
	var st uint32
	switch op.kind {
	case 0, 1:
		v, block := cRecords([]Record{op.rec})
		defer C.free(block)
		if op.kind == 0 {
			st = C.flowdb_write_batch_put(cb, v, &cerr)
		} else {
			st = C.flowdb_write_batch_put_ttl(cb, v, C.uint64_t(op.ttl), &cerr)
		}
	case 2:
		k, n, free := bytesArg(op.rec.Key)
		defer free()
		st = C.flowdb_write_batch_delete(cb, k, n, C.int64_t(op.rec.TS), &cerr)
	case 6, 7:
		st = op.addPoint(cb, &cerr)
	case 3, 4:
		a, an, freeA := bytesArg(op.from)
		defer freeA()
		z, zn, freeZ := bytesArg(op.to)
		defer freeZ()
		if op.kind == 3 {
			st = C.flowdb_write_batch_delete_range(cb, a, an, z, zn, &cerr)
		} else {
			st = C.flowdb_write_batch_delete_time_range(cb, a, an, z, zn, C.int64_t(op.tsLo), C.int64_t(op.tsHi), &cerr)
		}
	default:
		p, pn, freeP := bytesArg(op.from)
		defer freeP()
		st = C.flowdb_write_batch_delete_prefix_before(cb, p, pn, C.int64_t(op.rec.TS), &cerr)
	}
	return check(st, cerr)
}

// PatchRecord replaces the value (when value != nil) and/or sets expire_at = ts +
// ttlSecs (when ttlSecs != nil) of a live record; returns it as stored. ErrNotFound
// when it is missing or expired.
func (e *Engine) PatchRecord(key []byte, ts int64, value []byte, ttlSecs *uint64) (*Record, error) {
	k, kn, fk := bytesArg(key)
	defer fk()
	v, vn, fv := bytesArg(value)
	defer fv()
	ttl := uint64(0)
	if ttlSecs != nil {
		ttl = *ttlSecs
	}
	return first(e.list(func(h *C.flowdb_engine_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_patch_record(h, k, kn, C.int64_t(ts), C.bool(value != nil), v, vn, C.bool(ttlSecs != nil), C.uint64_t(ttl), o, c)
	}))
}
