// Command service is an HTTP prune service built on the gisp Go binding:
//
//	go run ./examples/service -addr :8080 -model ../../testdata/tiny/model -calib ../../testdata/tiny/calib.txt
//	curl -N -X POST 'localhost:8080/prune?ratio=0.5&steps=3'
//	curl -N -X POST localhost:8080/prune -d '{"ratio": 0.3, "steps": 8, "batch_size": 4}'
//
// Each POST /prune runs one job (its own model, calibration data, gisp context and cancel token)
// and streams newline-delimited JSON: "load" lines per decoder layer, a "progress" line per
// calibration batch, then a "done" line (steps, sparsity, record size and SHA-256) or an
// "error" line. A client that disconnects cancels its job.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "listen address")
	model := flag.String("model", "../../testdata/tiny/model", "model directory (default: the tiny model, from bindings/go)")
	calib := flag.String("calib", "../../testdata/tiny/calib.txt", "calibration text")
	threads := flag.Int("threads", 0, "gisp threads per job (0: default)")
	jobs := flag.Int("jobs", 1, "jobs running at once")
	flag.Parse()
	logger := log.New(os.Stderr, "service: ", log.LstdFlags)
	h := newServer(config{ModelDir: *model, CalibPath: *calib, Threads: *threads, MaxJobs: *jobs, Logger: logger})
	logger.Printf("listening on %s", *addr)
	logger.Fatal(http.ListenAndServe(*addr, h))
}
