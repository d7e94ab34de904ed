module flowdb-examples

go 1.24

require github.com/flowdb/flowdb/bindings/go v0.7.0

// The bindings of this checkout. A program outside the repository needs no replace
// once the bindings/go/v0.7.0 tag is published.
replace github.com/flowdb/flowdb/bindings/go => ../../bindings/go
