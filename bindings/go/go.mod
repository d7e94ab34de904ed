module flowdb

go 1.24
