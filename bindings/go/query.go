package flowdb

// The JSON query builder (Query): steps kept as Go values, run by Collect.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"encoding/json"
	"fmt"
)

// Query is a query-builder query over one store; run it with Collect. A Query holds
// only Go values: each Collect builds its own C query and frees it before returning,
// so a query may be collected any number of times (polling), from one goroutine at a
// time, and one never collected holds no C memory.
type Query struct {
	store string
	steps []queryStep
}

// queryStep adds one step to a C query; its strings are C copies made for this call
// (the C API copies what it keeps), names the arguments they came from (as for
// withStr: "" for JSON passed with its length). err, when set, is the step's error,
// returned by Collect when it reaches the step (a builder method returns no error).
type queryStep struct {
	names []string
	strs  []string
	add   func(h *C.flowdb_query_t, ps []*C.char, c **C.flowdb_error_t) uint32
	err   error
}

// Query starts a query over store.
func (db *JSONDB) Query(store string) *Query { return &Query{store: store} }

func (q *Query) add(names, strs []string, f func(h *C.flowdb_query_t, ps []*C.char, c **C.flowdb_error_t) uint32) *Query {
	q.steps = append(q.steps, queryStep{names: names, strs: strs, add: f})
	return q
}

// count adds a count step (Limit, Offset), or, for a negative n, a step that fails
// with ErrInvalidArgument (a size_t would wrap it to a huge count).
func (q *Query) count(what string, n int, f func(h *C.flowdb_query_t, n C.size_t, c **C.flowdb_error_t) uint32) *Query {
	if n < 0 {
		q.steps = append(q.steps, queryStep{err: newError(CodeInvalidArgument, fmt.Sprintf("invalid argument: %s %d is negative", what, n))})
		return q
	}
	return q.add(nil, nil, func(h *C.flowdb_query_t, _ []*C.char, c **C.flowdb_error_t) uint32 {
		return f(h, C.size_t(n), c)
	})
}

// WhereEq keeps documents whose field equals value (a JSON key).
func (q *Query) WhereEq(field string, value json.RawMessage) *Query {
	return q.add([]string{"field", ""}, []string{field, string(value)}, func(h *C.flowdb_query_t, p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_where_eq(h, p[0], p[1], C.size_t(len(value)), c)
	})
}

// WhereRange keeps documents with start <= field < end (half-open, as the Rust
// where_range).
func (q *Query) WhereRange(field string, start, end json.RawMessage) *Query {
	return q.add([]string{"field", "", ""}, []string{field, string(start), string(end)}, func(h *C.flowdb_query_t, p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_where_range(h, p[0], p[1], C.size_t(len(start)), p[2], C.size_t(len(end)), c)
	})
}

// WhereIn keeps documents whose field is one of values (a JSON array).
func (q *Query) WhereIn(field string, values json.RawMessage) *Query {
	return q.add([]string{"field", ""}, []string{field, string(values)}, func(h *C.flowdb_query_t, p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_where_in(h, p[0], p[1], C.size_t(len(values)), c)
	})
}

// OrderBy orders by field.
func (q *Query) OrderBy(field string, descending bool) *Query {
	return q.add([]string{"field"}, []string{field}, func(h *C.flowdb_query_t, p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_order_by(h, p[0], C.bool(descending), c)
	})
}

// Limit returns at most n documents. A negative n makes Collect fail with
// ErrInvalidArgument.
func (q *Query) Limit(n int) *Query {
	return q.count("limit", n, func(h *C.flowdb_query_t, n C.size_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_limit(h, n, c)
	})
}

// Offset skips the first n documents. A negative n makes Collect fail with
// ErrInvalidArgument.
func (q *Query) Offset(n int) *Query {
	return q.count("offset", n, func(h *C.flowdb_query_t, n C.size_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_offset(h, n, c)
	})
}

// Collect runs the query on db. It may be called again (the same query, the same or
// another database); every C object it makes is freed before it returns. A store
// name that is not UTF-8 is ErrInvalidArgument naming it.
func (q *Query) Collect(db *JSONDB) ([]json.RawMessage, error) {
	var out json.RawMessage
	err := withStr([]string{"store"}, []string{q.store}, func(s []*C.char) error {
		cq := C.flowdb_query_new(s[0])
		if cq == nil { // its only failure once s is a C string: not UTF-8
			return newError(CodeInvalidArgument, fmt.Sprintf("invalid argument: store %q is not valid UTF-8", q.store))
		}
		defer C.flowdb_query_free(cq)
		for _, st := range q.steps {
			if st.err != nil {
				return st.err
			}
			if err := withStr(st.names, st.strs, func(ps []*C.char) error {
				var cerr *C.flowdb_error_t
				return check(st.add(cq, ps, &cerr), cerr)
			}); err != nil {
				return err
			}
		}
		var err error
		out, err = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_query_collect(h, cq, o, c)
		})
		return err
	})
	return docs(out, err)
}
