module example.com/flowdb-consumer

go 1.24

require github.com/flowdb/flowdb/bindings/go v0.7.0

// As a consumer before the bindings/go/v0.7.0 tag is published: the module from a
// checkout. Delete this line to take the published module.
replace github.com/flowdb/flowdb/bindings/go => ../../bindings/go
