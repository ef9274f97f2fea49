module example.com/gispconsumer

go 1.19

require github.com/gisp-project/gisp/bindings/go v0.1.0
