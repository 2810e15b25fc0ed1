module github.com/wbsim/wbsim

go 1.26

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/leanovate/gopter v0.2.11 // indirect
	pgregory.net/rapid v1.3.0 // indirect
)
