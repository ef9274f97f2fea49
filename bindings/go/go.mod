module github.com/gisp-project/gisp/bindings/go

go 1.19
