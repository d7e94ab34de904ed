module github.com/flowdb/flowdb/bindings/go

go 1.24
