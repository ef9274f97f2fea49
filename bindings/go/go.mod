module gisp.example/gisp

go 1.19
