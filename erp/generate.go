package erp

//go:generate go run github.com/vektra/mockery/v3@v3.9.0
