package gisp

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const bound = 30 * time.Second // every wait in these tests is bounded

func tinyModel(t *testing.T) string { return filepath.Join(root(t), "testdata/tiny/model") }

// loadFixture loads the small fixture model and registers its Close.
func loadFixture(t *testing.T) *Model {
	m, err := LoadModel(fixture(t), CPU)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// eventually waits (bounded) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCancelTokenFromAnotherGoroutine(t *testing.T) {
	want := runToTheEnd(t, nil)

	m := loadFixture(t)
	c, err := NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok, err := NewCancelToken()
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if err := c.SetCancelToken(tok); err != nil || c.CancelToken() != tok {
		t.Fatal(err)
	}
	if err := m.SetContext(c); err != nil || m.CancelToken() != tok {
		t.Fatal(err)
	}
	p := smallPruner(t, m, tokenCalibration(t, m, true))
	defer p.Close()

	inStep1 := make(chan struct{})
	go func() {
		<-inStep1
		tok.Cancel() // from another goroutine, while Run is inside gisp
	}()
	var once sync.Once
	err = p.Run(context.Background(), func(pr Progress) {
		if pr.Step == 1 {
			once.Do(func() {
				close(inStep1)
				eventually(t, "the token", tok.IsCancelled)
			})
		}
	})
	if !IsCode(err, Cancelled) || errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want a Cancelled error without a context cause", err)
	}
	partial, err := p.Record()
	if err != nil {
		t.Fatal(err)
	}
	if partial.NumSteps() != 1 || partial.Complete() {
		t.Fatalf("partial record: %d steps", partial.NumSteps())
	}
	b, err := partial.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := RecordFromBytes(b)
	if err != nil || back.NumSteps() != 1 {
		t.Fatalf("the partial record does not round-trip: %v", err)
	}
	// While the token is raised every call on the model stops; lowered, the job resumes.
	if err := p.Run(context.Background(), nil); !IsCode(err, Cancelled) {
		t.Fatalf("with the token raised: %v", err)
	}
	tok.Reset()
	if tok.IsCancelled() {
		t.Fatal("Reset did not lower the token")
	}
	if !bytes.Equal(runToTheEnd(t, back), want) {
		t.Fatal("the resumed record differs from the uninterrupted one")
	}
}

func TestContextCancellationWrapsCtxErr(t *testing.T) {
	m := loadFixture(t)
	data := tokenCalibration(t, m, false)
	p := smallPruner(t, m, data)
	defer p.Close()
	if err := p.Step(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	r, _ := p.Record()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	expired, stop := context.WithTimeout(context.Background(), -time.Second)
	defer stop()
	tiny := filepath.Join(root(t), "testdata/tiny")
	calls := map[string]func(context.Context) error{
		"LoadWithOptions": func(c context.Context) error { _, err := LoadWithOptions(c, tinyModel(t), nil); return err },
		"TextWindows": func(c context.Context) error {
			_, err := TextWindows(c, m, filepath.Join(tiny, "calib.txt"), 16, 2, 0)
			return err
		},
		"FromModelTokens": func(c context.Context) error {
			_, err := FromModelTokens(c, m, [][]int32{{1, 2, 3}}, nil, nil)
			return err
		},
		"Step": func(c context.Context) error { return p.Step(c, nil) },
		"Run":  func(c context.Context) error { return p.Run(c, nil) },
		"Perplexity": func(c context.Context) error {
			_, _, err := m.Perplexity(c, filepath.Join(tiny, "eval.txt"), 16, 1)
			return err
		},
		"MultipleChoice": func(c context.Context) error { _, _, err := m.MultipleChoice(c, "x.jsonl", 1); return err },
		"Materialize":    func(c context.Context) error { _, err := m.Materialize(c, r, 0); return err },
		"Export":         func(c context.Context) error { return m.Export(c, t.TempDir(), Auto) },
		"ExportFormat": func(c context.Context) error {
			_, _, err := m.ExportFormat(c, filepath.Join(t.TempDir(), "x"), ExportLlama, F32)
			return err
		},
	}
	for name, call := range calls {
		if err := call(ctx); !IsCode(err, Cancelled) || !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", name, err)
		}
		if err := call(expired); !IsCode(err, Cancelled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with an expired deadline: %v", name, err)
		}
	}
	if p.NextStep() != 1 {
		t.Fatalf("a cancelled call ran a step: next step %d", p.NextStep())
	}
}

func TestContextCancelDuringRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := run(t, nil, ctx, func(pr Progress) {
		if pr.Step == 2 {
			cancel()
		}
	})
	if !IsCode(err, Cancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	// The binding's own token was lowered again: the model keeps working.
	if tok := p.model.CancelToken(); tok == nil || tok.IsCancelled() {
		t.Fatal("the model's token is missing or still raised")
	}
	if err := p.Run(context.Background(), nil); err != nil || !p.Done() {
		t.Fatalf("after a cancelled run: %v", err)
	}
}

func TestWatcherRaisesTheTokenAndExits(t *testing.T) {
	m := loadFixture(t)
	before := runtime.NumGoroutine()

	// A call that returns on its own: the goroutine exits, the token stays lowered.
	ctx, cancel := context.WithCancel(context.Background())
	w, err := m.watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := m.CancelToken()
	if tok == nil || !m.ownToken {
		t.Fatal("no token was attached to the model")
	}
	if err := w.finish(nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	if tok.IsCancelled() {
		t.Fatal("the token was raised after the call returned")
	}

	// ctx done during a call: the token is raised, then lowered when the call returns.
	ctx, cancel = context.WithCancel(context.Background())
	w, err = m.watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.CancelToken() != tok {
		t.Fatal("a second token was attached")
	}
	cancel()
	eventually(t, "the token", tok.IsCancelled)
	err = w.finish(&Error{Code: Cancelled, Message: "stopped"})
	if !IsCode(err, Cancelled) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("got %v", err)
	}
	if tok.IsCancelled() {
		t.Fatal("the binding's token stayed raised")
	}
	eventually(t, "the watchers to exit", func() bool { return runtime.NumGoroutine() <= before })

	// A token the host gave is raised but not lowered: it is the host's.
	c, _ := NewContext()
	host, _ := NewCancelToken()
	if err := c.SetCancelToken(host); err != nil {
		t.Fatal(err)
	}
	if err := m.SetContext(c); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	w, _ = m.watch(ctx)
	cancel()
	eventually(t, "the host's token", host.IsCancelled)
	_ = w.finish(nil)
	if !host.IsCancelled() {
		t.Fatal("the host's token was lowered")
	}
}

func TestLoadWithOptionsProgress(t *testing.T) {
	var seen [][2]int64
	opts := NewLoadOptions().SetDevice(CPU).SetWorkingDType(F32).SetProgress(func(done, total int64) bool {
		seen = append(seen, [2]int64{done, total})
		return true
	})
	m, err := LoadWithOptions(context.Background(), tinyModel(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	layers := mustInt(t)(m.NumLayers())
	if int64(len(seen)) != layers {
		t.Fatalf("progress %v for %d layers", seen, layers)
	}
	for i, s := range seen {
		if s[0] != int64(i+1) || s[1] != layers {
			t.Fatalf("progress %v", seen)
		}
	}

	// The callback cancels: no model, Cancelled without a context cause.
	calls := 0
	opts.SetProgress(func(done, total int64) bool { calls++; return done < 2 })
	if m, err := LoadWithOptions(context.Background(), tinyModel(t), opts); !IsCode(err, Cancelled) || m != nil || calls != 2 {
		t.Fatalf("got %v after %d calls", err, calls)
	}
	// ctx is cancelled during the load: Cancelled wrapping context.Canceled.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.SetProgress(func(done, total int64) bool { cancel(); return true })
	if _, err := LoadWithOptions(ctx, tinyModel(t), opts); !IsCode(err, Cancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	// A 16-bit working copy is refused on the CPU.
	if _, err := LoadWithOptions(context.Background(), tinyModel(t), NewLoadOptions().SetWorkingDType(BF16)); !IsCode(err, Unimplemented) {
		t.Fatalf("BF16 on the CPU: %v", err)
	}
}

func TestContextSettings(t *testing.T) {
	if DefaultNumThreads() < 1 {
		t.Fatalf("default threads %d", DefaultNumThreads())
	}
	c, err := NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.NumThreads() != DefaultNumThreads() {
		t.Fatalf("a new context has %d threads", c.NumThreads())
	}
	if err := c.SetNumThreads(1); err != nil || c.NumThreads() != 1 {
		t.Fatal(err, c.NumThreads())
	}
	if err := c.SetNumThreads(-1); !IsCode(err, InvalidArgument) {
		t.Fatalf("-1 threads: %v", err)
	}
	if err := c.SetMemoryBudget(-1); !IsCode(err, InvalidArgument) {
		t.Fatalf("a negative budget: %v", err)
	}
	// A budget too small for a pass is refused, naming the budget.
	if err := c.SetMemoryBudget(1); err != nil {
		t.Fatal(err)
	}
	m, err := LoadWithOptions(context.Background(), fixture(t), NewLoadOptions().SetContext(c))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	data, _ := FromModelTokens(context.Background(), m, tokenData(mustInt(t)(m.VocabSize())), nil, nil)
	if _, err := NewPruner(m, data, smallConfig(t), nil); !IsCode(err, ResourceExhausted) || !strings.Contains(err.Error(), "budget") {
		t.Fatalf("got %v", err)
	}
	// The model copied the context: changing it later does not reach the model, SetContext does.
	if err := c.SetMemoryBudget(0); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPruner(m, data, smallConfig(t), nil); !IsCode(err, ResourceExhausted) {
		t.Fatalf("the model saw a later change to its context: %v", err)
	}
	if err := m.SetContext(c); err != nil {
		t.Fatal(err)
	}
	p := smallPruner(t, m, data)
	defer p.Close()
	if err := p.Step(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := m.SetContext(nil); err != nil || m.CancelToken() != nil {
		t.Fatal(err)
	}
}

type logLines struct {
	sync.Mutex
	lines []string
}

func (l *logLines) add(level LogLevel, msg string) {
	l.Lock()
	defer l.Unlock()
	l.lines = append(l.lines, level.String()+": "+msg)
}

func (l *logLines) count() int {
	l.Lock()
	defer l.Unlock()
	return len(l.lines)
}

// prune loads the fixture (under c when not nil) and runs a short prune.
func prune(t *testing.T, c *Context) {
	opts := NewLoadOptions()
	if c != nil {
		opts.SetContext(c)
	}
	m, err := LoadWithOptions(context.Background(), fixture(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p := smallPruner(t, m, tokenCalibration(t, m, true))
	defer p.Close()
	if err := p.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestLogCallbacks(t *testing.T) {
	var global, job logLines
	SetLogCallback(global.add, LogDebug)
	defer SetLogCallback(nil, LogInfo)
	prune(t, nil)
	if global.count() == 0 {
		t.Fatal("the process-wide log function received nothing")
	}
	t.Logf("%d messages, first %q", global.count(), global.lines[0])

	// A context's log function takes its models' messages instead.
	c, _ := NewContext()
	defer c.Close()
	if err := c.SetLogFunc(job.add, LogDebug); err != nil {
		t.Fatal(err)
	}
	n := global.count()
	prune(t, c)
	if job.count() == 0 || global.count() != n {
		t.Fatalf("context log %d messages, process-wide %d more", job.count(), global.count()-n)
	}
	// Above every level: nothing.
	var none logLines
	_ = c.SetLogFunc(none.add, LogLevel(99))
	prune(t, c)
	if none.count() != 0 {
		t.Fatalf("min level not applied: %v", none.lines)
	}
	// Uninstalled: discarded.
	SetLogCallback(nil, LogDebug)
	n = global.count()
	prune(t, nil)
	if global.count() != n {
		t.Fatal("messages after the log function was removed")
	}
}

func TestTokenizeLogitsAndTokens(t *testing.T) {
	m, err := LoadModel(tinyModel(t), CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	with, err := m.Tokenize("In the beginning God created the heaven and the earth.", true)
	if err != nil {
		t.Fatal(err)
	}
	without, err := m.Tokenize("In the beginning God created the heaven and the earth.", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(without) == 0 || len(with) != len(without)+1 || with[0] != 1 {
		t.Fatalf("tokens %v / %v", with, without)
	}
	vocab := mustInt(t)(m.VocabSize())
	logits, err := m.Logits(without)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(logits)) != int64(len(without))*vocab {
		t.Fatalf("%d logits", len(logits))
	}
	for _, v := range logits {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatal("non-finite logit")
		}
	}
	if _, err := m.Logits([]int32{int32(vocab)}); !IsCode(err, InvalidArgument) {
		t.Fatalf("an id outside the vocabulary: %v", err)
	}
	for _, f := range []func() (int64, error){m.HiddenSize, m.NumHeads, m.NumKVHeads, m.HeadDim, m.IntermediateSize, m.DecoderParameters, m.MaxPositions} {
		if v := mustInt(t)(f()); v <= 0 {
			t.Fatalf("a model field is %d", v)
		}
	}
	if _, err := m.Int(ModelField(1000)); !IsCode(err, InvalidArgument) {
		t.Fatalf("an unknown field: %v", err)
	}

	data, err := FromModelTokens(context.Background(), m, [][]int32{with, without}, nil, []uint8{1, 0})
	if err != nil || data.Len() != 2 {
		t.Fatal(err)
	}
	_, err = FromModelTokens(context.Background(), m, [][]int32{{1, 2, int32(vocab)}}, nil, nil)
	if !IsCode(err, InvalidArgument) {
		t.Fatalf("an id outside the vocabulary: %v", err)
	}
	long := make([]int32, mustInt(t)(m.MaxPositions())+1)
	if _, err := FromModelTokens(context.Background(), m, [][]int32{long}, nil, nil); !IsCode(err, InvalidArgument) {
		t.Fatalf("a sequence longer than the model's positions: %v", err)
	}
	if _, err := FromTokens([][]int32{{1, 2}}, [][]uint8{{1}}, nil); !IsCode(err, InvalidArgument) {
		t.Fatalf("a short mask: %v", err)
	}
}

func TestPrunerIntrospection(t *testing.T) {
	m := loadFixture(t)
	p := smallPruner(t, m, tokenCalibration(t, m, false))
	defer p.Close()
	if p.TotalSteps() != 4 || p.NextStep() != 0 || p.Done() {
		t.Fatal(p.TotalSteps(), p.NextStep())
	}
	if _, err := p.Scores(); !IsCode(err, FailedPrecondition) {
		t.Fatalf("scores before a step: %v", err)
	}
	if tm, err := p.Timings(); err != nil || len(tm) != 0 {
		t.Fatal(tm, err)
	}
	for i := 0; i < 2; i++ {
		if err := p.Step(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := p.Record()
	scores, err := p.Scores() // of step 1
	if err != nil || len(scores) != p.NumUnits() || p.NumUnits() != r.NumUnits() || p.NumUnits() == 0 {
		t.Fatalf("%d scores, %d units, record %d: %v", len(scores), p.NumUnits(), r.NumUnits(), err)
	}
	units, _ := r.UnitSteps()
	pruned := 0
	for i, s := range scores {
		if units[i] == 0 { // pruned before step 1
			pruned++
			if s != 0 {
				t.Fatalf("unit %d, pruned in step 0, scores %v in step 1", i, s)
			}
		}
	}
	if pruned == 0 {
		t.Fatal("no unit pruned in step 0")
	}
	if err := p.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	tm, err := p.Timings()
	if err != nil || len(tm) != 4 {
		t.Fatal(tm, err)
	}
	for i, s := range tm {
		if s.Step != i || s.Seconds <= 0 || s.GradientSeconds < 0 || s.GradientSeconds > s.Seconds {
			t.Fatalf("timings %+v", tm)
		}
	}
	r, _ = p.Record()
	loss, err := r.StepLoss()
	if err != nil || len(loss) != 4 || loss[0] <= 0 {
		t.Fatal(loss, err)
	}
	if err := p.Step(context.Background(), nil); !IsCode(err, FailedPrecondition) {
		t.Fatalf("a step after the last: %v", err)
	}
	if _, err := r.NearestStep(0.99); !IsCode(err, OutOfRange) {
		t.Fatalf("an unreached sparsity: %v", err)
	}
	path := filepath.Join(t.TempDir(), "record.json")
	if err := p.SetCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	if err := p.SetCheckpoint(""); err != nil {
		t.Fatal(err)
	}
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadRecord(path)
	if err != nil || back.NumSteps() != 4 {
		t.Fatal(err)
	}
	js, err := back.JSON()
	if err != nil || !strings.Contains(js, "{") {
		t.Fatal(err)
	}
	cfg, err := smallConfig(t).JSON()
	if err != nil || !strings.Contains(cfg, "0.3") {
		t.Fatal(cfg, err)
	}
}

func TestEvaluationAndJSONLCalibration(t *testing.T) {
	m, err := LoadModel(tinyModel(t), CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tiny := filepath.Join(root(t), "testdata/tiny")
	ppl, n, err := m.Perplexity(context.Background(), filepath.Join(tiny, "eval.txt"), 64, 2)
	if err != nil || n == 0 || ppl <= 1 || math.IsInf(ppl, 0) {
		t.Fatal(ppl, n, err)
	}
	dir := t.TempDir()
	mc := filepath.Join(dir, "mc.jsonl")
	qa := filepath.Join(dir, "qa.jsonl")
	if err := os.WriteFile(mc, []byte(`{"context": "In the beginning God created the", "choices": [" heaven", " sea of glass"], "label": 0}
{"context": "And God said, Let there be", "choices": [" light", " fish"], "label": 0}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(qa, []byte(`{"question": "Who created the heaven?", "answer": "God"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	acc, accNorm, err := m.MultipleChoice(context.Background(), mc, 0)
	if err != nil || acc < 0 || acc > 1 || accNorm < 0 || accNorm > 1 {
		t.Fatal(acc, accNorm, err)
	}
	if _, _, err := m.MultipleChoice(context.Background(), filepath.Join(dir, "missing.jsonl"), 0); !IsCode(err, NotFound) {
		t.Fatalf("a missing file: %v", err)
	}
	if d, err := MultipleChoiceJSONL(context.Background(), m, mc, 1); err != nil || d.Len() != 2 {
		t.Fatal(err)
	}
	if d, err := QAJSONL(context.Background(), m, qa, 0); err != nil || d.Len() != 1 {
		t.Fatal(err)
	}
}

func TestMaterializedModelsGetTheirOwnToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := run(t, nil, ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Record()
	m := p.model
	small, err := m.Materialize(ctx, r, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if small.CancelToken() == nil || small.CancelToken() == m.CancelToken() {
		t.Fatal("the materialized model shares the binding's token of its source")
	}
	small.CancelToken().Cancel()
	if err := small.Export(context.Background(), filepath.Join(t.TempDir(), "x"), F32); !IsCode(err, Cancelled) {
		t.Fatalf("export with the token raised: %v", err)
	}
	if _, err := m.Materialize(context.Background(), r, 1); err != nil {
		t.Fatalf("the source was cancelled too: %v", err)
	}
}
