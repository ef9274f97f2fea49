package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gisp-project/gisp/bindings/go"
)

const wait = 60 * time.Second // bound on every wait; a job on the tiny model takes well under a second

func tiny(t *testing.T) config {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
	return config{
		ModelDir:  filepath.Join(root, "testdata/tiny/model"),
		CalibPath: filepath.Join(root, "testdata/tiny/calib.txt"),
	}
}

// directRecord prunes with the binding alone, as the service does with the default parameters.
func directRecord(t *testing.T, cfg config) []byte {
	p := defaultParams()
	m, err := gisp.LoadModel(cfg.ModelDir, gisp.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	data, err := gisp.TextWindows(context.Background(), m, cfg.CalibPath, p.Window, p.Windows, p.Seed)
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	c, err := gisp.NewPruneConfig(gisp.Ratio(p.Ratio), gisp.Steps(p.Steps), gisp.BatchSize(p.BatchSize))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pr, err := gisp.NewPruner(m, data, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if err := pr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	r, err := pr.Record()
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type result struct {
	err    error
	record []byte
}

// serve starts a test server for cfg (closed when the test ends); each job's end arrives on the
// returned channel.
func serve(t *testing.T, cfg config) (*httptest.Server, <-chan result) {
	done := make(chan result, 1)
	cfg.onDone = func(job int64, err error, record []byte) { done <- result{err, record} }
	srv := httptest.NewServer(newServer(cfg))
	t.Cleanup(srv.Close)
	return srv, done
}

func TestJobStreamsProgressAndMatchesADirectRun(t *testing.T) {
	cfg := tiny(t)
	firstRead := make(chan struct{})
	var once sync.Once
	cfg.onProgress = func(ctx context.Context, job int64, p gisp.Progress) {
		// The job waits here after its first progress line until the client has read it: the
		// line was streamed while the job was still running.
		once.Do(func() {
			select {
			case <-firstRead:
			case <-time.After(wait):
			}
		})
	}
	srv, done := serve(t, cfg)

	resp, err := http.Post(srv.URL+"/prune", "application/json", strings.NewReader(`{"ratio": 0.5, "steps": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	var lines []line
	loads, progress := 0, 0
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
		switch l.Event {
		case "load":
			loads++
		case "progress":
			progress++
			if progress == 1 {
				select {
				case r := <-done:
					t.Fatalf("the job ended (%v) before its first progress line was read", r.err)
				default:
				}
				close(firstRead)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		t.Fatal("no lines")
	}
	last := lines[len(lines)-1]
	if last.Event != "done" {
		t.Fatalf("last line %+v", last)
	}
	if loads == 0 || progress < 3 {
		t.Fatalf("%d load lines, %d progress lines", loads, progress)
	}
	for _, l := range lines[:len(lines)-1] {
		if l.Event != "load" && l.Event != "progress" {
			t.Fatalf("unexpected line %+v", l)
		}
	}
	if last.Steps != 3 || last.Sparsity <= 0 || last.RecordBytes == 0 {
		t.Fatalf("summary %+v", last)
	}

	var r result
	select {
	case r = <-done:
	case <-time.After(wait):
		t.Fatal("no job result")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	sum := sha256.Sum256(r.record)
	if hex.EncodeToString(sum[:]) != last.RecordSHA256 || len(r.record) != last.RecordBytes {
		t.Fatal("the summary does not describe the job's record")
	}
	if want := directRecord(t, cfg); !bytes.Equal(r.record, want) {
		t.Fatalf("the service's record differs from a direct binding run (%d vs %d bytes)", len(r.record), len(want))
	}
	if ref := os.Getenv("GISP_CLI_RECORD"); ref != "" {
		want, err := os.ReadFile(ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.record, want) {
			t.Fatal("the service's record differs from the CLI's")
		}
	}
}

func TestClientDisconnectCancelsTheJob(t *testing.T) {
	cfg := tiny(t)
	started := make(chan struct{})
	var once sync.Once
	cfg.onProgress = func(ctx context.Context, job int64, p gisp.Progress) {
		// Hold the job in its second step (so its record has a completed step) until the server
		// has seen the client go (bounded).
		if p.Step < 1 {
			return
		}
		once.Do(func() {
			close(started)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		})
	}
	srv, done := serve(t, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/prune?steps=40&windows=16", nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = bufio.NewReader(resp.Body).ReadString(0) // until the disconnect
			resp.Body.Close()
		}
	}()
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("the job did not start")
	}
	cancelledAt := time.Now()
	cancel() // the client disconnects

	var r result
	select {
	case r = <-done:
	case <-time.After(wait):
		t.Fatal("the job did not stop")
	}
	if !gisp.IsCode(r.err, gisp.Cancelled) || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("job ended with %v, want Cancelled wrapping context.Canceled", r.err)
	}
	if d := time.Since(cancelledAt); d > 10*time.Second {
		t.Fatalf("the job took %v to stop", d)
	}
	rec, err := gisp.RecordFromBytes(r.record)
	if err != nil {
		t.Fatalf("partial record: %v", err)
	}
	if rec.Complete() || rec.NumSteps() < 1 || rec.NumSteps() >= 40 {
		t.Fatalf("record has %d steps, complete %v", rec.NumSteps(), rec.Complete())
	}
}

func TestBadRequests(t *testing.T) {
	srv := httptest.NewServer(newServer(tiny(t)))
	defer srv.Close()
	for _, c := range []struct {
		method, query, body string
		want                int
	}{
		{http.MethodGet, "", "", http.StatusMethodNotAllowed},
		{http.MethodPost, "?ratio=x", "", http.StatusBadRequest},
		{http.MethodPost, "?ratio=1.5", "", http.StatusBadRequest},
		{http.MethodPost, "", `{"steps": 0}`, http.StatusBadRequest},
		{http.MethodPost, "", `{"nope": 1}`, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+"/prune"+c.query, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s %s: status %d, want %d", c.method, c.query, c.body, resp.StatusCode, c.want)
		}
	}
}
