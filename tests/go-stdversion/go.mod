module example.com/go-stdversion

go 1.24
