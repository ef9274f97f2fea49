package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/gisp-project/gisp/bindings/go"
)

// config is what the service is started with; the hooks are for tests (nil in main).
type config struct {
	ModelDir  string // the model every job prunes (a fresh copy per job)
	CalibPath string // the calibration text
	Threads   int    // gisp threads per job (0: the default)
	MaxJobs   int    // jobs running at once; more get 503 (0: 1)
	Logger    *log.Logger

	// onProgress is called on the job's goroutine after each progress line was flushed.
	onProgress func(ctx context.Context, job int64, p gisp.Progress)
	// onDone is called when a job ends, with its error (nil when it completed) and the record
	// it has (possibly partial; nil when none was made).
	onDone func(job int64, err error, record []byte)
}

// jobParams are one prune job's parameters, from the query string or a JSON body.
type jobParams struct {
	Ratio     float64 `json:"ratio"`
	Steps     int     `json:"steps"`
	BatchSize int     `json:"batch_size"`
	Window    int64   `json:"window"`
	Windows   int64   `json:"windows"`
	Seed      uint64  `json:"seed"`
}

// defaultParams are the bindings' parity configuration (tools/ci/cli_reference_record.sh).
func defaultParams() jobParams {
	return jobParams{Ratio: 0.5, Steps: 3, BatchSize: 4, Window: 64, Windows: 8, Seed: 0}
}

// line is one newline-delimited JSON line of a job's response.
type line struct {
	Event string `json:"event"` // "load", "progress", "done" or "error"
	Job   int64  `json:"job"`
	// load
	Done  int64 `json:"done,omitempty"`
	Total int64 `json:"total,omitempty"`
	// progress
	Step           int     `json:"step,omitempty"`
	Steps          int     `json:"steps,omitempty"`
	Batch          int64   `json:"batch,omitempty"`
	Batches        int64   `json:"batches,omitempty"`
	Sparsity       float64 `json:"sparsity,omitempty"`
	Loss           float64 `json:"loss,omitempty"`
	ElapsedSeconds float64 `json:"elapsed_seconds,omitempty"`
	// done
	RecordBytes  int    `json:"record_bytes,omitempty"`
	RecordSHA256 string `json:"record_sha256,omitempty"`
	// error
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

type server struct {
	cfg   config
	slots chan struct{}
	jobs  atomic.Int64
}

// newServer returns the service's handler: POST /prune runs one prune job per request.
func newServer(cfg config) http.Handler {
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = log.New(io.Discard, "", 0)
	}
	s := &server{cfg: cfg, slots: make(chan struct{}, cfg.MaxJobs)}
	mux := http.NewServeMux()
	mux.HandleFunc("/prune", s.prune)
	return mux
}

func parseParams(r *http.Request) (jobParams, error) {
	p := defaultParams()
	if r.Body != nil && r.ContentLength != 0 {
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
			return p, fmt.Errorf("body: %v", err)
		}
	}
	q := r.URL.Query()
	var err error
	set := func(name string, parse func(string) error) {
		if v := q.Get(name); v != "" && err == nil {
			if e := parse(v); e != nil {
				err = fmt.Errorf("%s: %v", name, e)
			}
		}
	}
	set("ratio", func(v string) (e error) { p.Ratio, e = strconv.ParseFloat(v, 64); return })
	set("steps", func(v string) (e error) { p.Steps, e = strconv.Atoi(v); return })
	set("batch_size", func(v string) (e error) { p.BatchSize, e = strconv.Atoi(v); return })
	set("window", func(v string) (e error) { p.Window, e = strconv.ParseInt(v, 10, 64); return })
	set("windows", func(v string) (e error) { p.Windows, e = strconv.ParseInt(v, 10, 64); return })
	set("seed", func(v string) (e error) { p.Seed, e = strconv.ParseUint(v, 10, 64); return })
	return p, err
}

func (s *server) prune(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	params, err := parseParams(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// gisp validates the configuration before anything streams.
	pc, err := gisp.NewPruneConfig(gisp.Ratio(params.Ratio), gisp.Steps(params.Steps), gisp.BatchSize(params.BatchSize))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer pc.Close()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}

	job := s.jobs.Add(1)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	writeFailed := false
	emit := func(l line) {
		if writeFailed {
			return
		}
		l.Job = job
		if err := enc.Encode(l); err != nil {
			writeFailed = true // the client is gone; r.Context() cancels the job
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}

	record, err := s.run(r.Context(), job, params, pc, emit)
	if s.cfg.onDone != nil {
		s.cfg.onDone(job, err, record)
	}
	if err != nil {
		code := gisp.Unknown
		var ge *gisp.Error
		if errors.As(err, &ge) {
			code = ge.Code
		}
		s.cfg.Logger.Printf("job %d: %v", job, err)
		emit(line{Event: "error", Code: code.String(), Message: err.Error()})
		return
	}
	s.cfg.Logger.Printf("job %d: done, %d record bytes", job, len(record))
}

// run is one job: its own context, cancel token, model, calibration and pruner. It returns the
// record's bytes (partial when the job stopped after a completed step).
func (s *server) run(ctx context.Context, job int64, params jobParams, pc *gisp.PruneConfig, emit func(line)) ([]byte, error) {
	gctx, err := gisp.NewContext()
	if err != nil {
		return nil, err
	}
	defer gctx.Close()
	token, err := gisp.NewCancelToken()
	if err != nil {
		return nil, err
	}
	defer token.Close()
	if err := gctx.SetCancelToken(token); err != nil {
		return nil, err
	}
	if err := gctx.SetNumThreads(s.cfg.Threads); err != nil {
		return nil, err
	}
	logger := s.cfg.Logger
	if err := gctx.SetLogFunc(func(level gisp.LogLevel, msg string) {
		logger.Printf("job %d: gisp %s: %s", job, level, msg)
	}, gisp.LogInfo); err != nil {
		return nil, err
	}

	opts := gisp.NewLoadOptions().SetContext(gctx).SetProgress(func(done, total int64) bool {
		emit(line{Event: "load", Done: done, Total: total})
		return true
	})
	model, err := gisp.LoadWithOptions(ctx, s.cfg.ModelDir, opts)
	if err != nil {
		return nil, err
	}
	defer model.Close()
	data, err := gisp.TextWindows(ctx, model, s.cfg.CalibPath, params.Window, params.Windows, params.Seed)
	if err != nil {
		return nil, err
	}
	defer data.Close()
	pruner, err := gisp.NewPruner(model, data, pc, nil)
	if err != nil {
		return nil, err
	}
	defer pruner.Close()

	runErr := pruner.Run(ctx, func(p gisp.Progress) {
		emit(line{Event: "progress", Step: p.Step, Steps: p.Steps, Batch: p.Batch, Batches: p.Batches,
			Sparsity: p.Sparsity, Loss: p.Loss, ElapsedSeconds: p.ElapsedSeconds})
		if s.cfg.onProgress != nil {
			s.cfg.onProgress(ctx, job, p)
		}
	})
	// The record is valid either way: complete, or with every completed step.
	rec, err := pruner.Record()
	if err != nil {
		if runErr != nil {
			return nil, runErr
		}
		return nil, err
	}
	defer rec.Close()
	b, err := rec.Bytes()
	if err != nil {
		return nil, err
	}
	if runErr != nil {
		return b, runErr
	}
	sp, err := rec.StepSparsity()
	if err != nil {
		return b, err
	}
	sum := sha256.Sum256(b)
	final := 0.0
	if len(sp) > 0 {
		final = sp[len(sp)-1]
	}
	emit(line{Event: "done", Steps: rec.NumSteps(), Sparsity: final, RecordBytes: len(b),
		RecordSHA256: hex.EncodeToString(sum[:])})
	return b, nil
}
