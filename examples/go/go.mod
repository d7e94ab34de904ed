module flowdb-examples

go 1.24

require flowdb v0.0.0

replace flowdb => ../../bindings/go
