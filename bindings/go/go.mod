module flowdb

go 1.23
